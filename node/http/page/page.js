"use strict";
// The web view: polls the node's JSON under /api/ (docs/control.md) and draws it. Plain DOM
// and SVG; data is put in with textContent only, never as markup.
const SVGNS = "http://www.w3.org/2000/svg";
const R = 200;
const $ = (id) => document.getElementById(id);
let status = null, ring = null;
const upSeen = new Map(); // content_id + peer -> [uploaded bytes, time]: rates up

// "1 peer", "2 peers": a count with its noun.
function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function el(tag, attrs, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4))
                                   : document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  return r.json();
}

// Where an id (hex, ceil(bits/4) digits) sits on the circle, as a fraction of a turn.
function frac(hex, bits) {
  const k = Math.min(13, hex.length);
  return parseInt(hex.slice(0, k), 16) / Math.pow(16, k) * Math.pow(2, 4 * hex.length - bits);
}
function point(hex, r) {
  const a = 2 * Math.PI * frac(hex, status ? status.bits : hex.length * 4);
  return [(r || R) * Math.sin(a), -(r || R) * Math.cos(a)];
}
function rate(b) {
  if (b >= 1048576) return (b / 1048576).toFixed(1) + " MiB/s";
  if (b >= 1024) return (b / 1024).toFixed(1) + " KiB/s";
  return Math.round(b) + " B/s";
}
function short(hex) { return hex.length > 12 ? hex.slice(0, 12) + "…" : hex; }

function drawRing() {
  if (!status) return;
  const members = $("members"), chords = $("chords");
  members.replaceChildren();
  chords.replaceChildren();
  const succ = new Set(status.successors.map((n) => n.id));
  const pred = status.predecessor ? status.predecessor.id : null;
  const list = ring && ring.ok ? ring.members : [{ id: status.id, addr: status.addr }];
  const [sx, sy] = point(status.id);
  const fingers = new Set(status.fingers.map((f) => f.id).filter((id) => id !== status.id));
  for (const id of fingers) {
    const [x, y] = point(id);
    chords.append(el("svg:path", { class: "chord", d: `M${sx},${sy} Q0,0 ${x},${y}` }));
  }
  for (const m of list) {
    const [x, y] = point(m.id);
    const kind = m.id === status.id ? "self" : m.id === pred ? "pred" : succ.has(m.id) ? "succ" : "";
    const g = el("svg:g", { class: "member " + kind, "data-addr": m.addr, "data-id": m.id });
    g.append(el("svg:title", {}, `${m.addr} id ${m.id}` + (kind ? ` (${kind === "self" ? "this node" : kind === "pred" ? "predecessor" : "successor"})` : "")));
    g.append(el("svg:circle", { cx: x, cy: y, r: kind === "self" ? 9 : 7 }));
    const [lx, ly] = point(m.id, R + 26);
    g.append(el("svg:text", { x: lx, y: ly, "text-anchor": "middle", "dominant-baseline": "middle" }, m.addr.replace(/^127\./, "…")));
    members.append(g);
  }
  const note = ring && !ring.ok ? "Ring walk: " + ring.error
             : ring && !ring.consistent ? "The ring is repairing itself: " + ring.problems.join("; ") : "";
  $("ring-note").textContent = note;
}

function drawSummary() {
  const s = status;
  $("self-addr").textContent = `${s.addr} · id ${short(s.id)}`;
  const n = ring && ring.ok ? ring.members.length : "?";
  $("summary").textContent = `${s.state} · ${count(n, "member")} · ${s.bits}-bit ids · ` +
    `predecessor ${s.predecessor ? s.predecessor.addr : "none"} · ` +
    `${count(s.stats.sent, "datagram")} sent, ${s.stats.received} received, ${s.stats.dropped} dropped · ` +
    `${count(s.stats.lookups, "lookup")} (${s.stats.lookups_failed} failed)`;
}

function drawStore() {
  const s = status, body = $("store").tBodies[0];
  $("store-summary").textContent = `${count(s.keys, "key")}, ${count(s.store_bytes, "byte")}`;
  body.replaceChildren();
  for (const e of s.entries) {
    const tr = el("tr", { "data-key": e.key_id });
    tr.append(el("td", { class: "id" }, short(e.key_id)), el("td", {}, e.kind),
              el("td", {}, String(e.bytes)), el("td", {}, String(e.ttl)),
              el("td", {}, e.owned ? "owned" : "replica"));
    body.append(tr);
  }
}

async function pollStatus() {
  try {
    status = await getJSON("/api/status");
    drawSummary(); drawStore(); drawRing();
  } catch (e) { $("summary").textContent = "The node does not answer: " + e; }
}
async function pollRing() {
  try { ring = await getJSON("/api/ring"); drawRing(); if (status) drawSummary(); } catch (e) { ring = null; }
}

// The lookup: its path drawn hop by hop, each with its round trip.
async function lookup(ev) {
  ev.preventDefault();
  const key = $("lookup-key").value;
  const out = $("lookup-path"), res = $("lookup-result"), g = $("path");
  out.replaceChildren(); g.replaceChildren();
  res.textContent = "Looking up…";
  const r = await getJSON("/api/lookup?key=" + encodeURIComponent(key));
  if (!r.ok) { res.textContent = `Lookup failed: ${r.error}`; return; }
  const [kx, ky] = point(r.key_id, R + 12);
  g.append(el("svg:circle", { class: "keymark", cx: kx, cy: ky, r: 6 }));
  let [px, py] = point(status.id);
  for (let i = 0; i < r.path.length; i++) {
    await new Promise((ok) => setTimeout(ok, 350));
    const h = r.path[i], [x, y] = point(h.id);
    g.append(el("svg:line", { class: "hopline", x1: px, y1: py, x2: x, y2: y }));
    [px, py] = [x, y];
    out.append(el("li", { "data-addr": h.addr },
      `${h.addr} (id ${short(h.id)}): ${h.answered ? h.rtt_ms + " ms" : "no answer"}`));
  }
  res.textContent = `Key ${short(r.key_id)} is owned by ${r.owner.addr}: ${r.hops} hop` +
    `${r.hops === 1 ? "" : "s"}, ${r.ms} ms in all.`;
}

function peerState(p) {
  const s = [];
  s.push(!p.unchoked ? "choked" : p.optimistic ? "unchoked (optimistic)" : "unchoked by rate");
  if (p.interested) s.push("interested");
  if (p.snubbed) s.push("snubbed");
  if (!p.choking_us) s.push("unchokes us");
  return s.join(", ");
}

function chunkMap(t) {
  const n = t.chunks_shown, cols = Math.min(64, Math.max(n, 1)), rows = Math.ceil(n / cols);
  const c = el("canvas", { class: "chunkmap", width: cols * 8, height: Math.max(rows, 1) * 8,
                           role: "img" });
  const held = (t.chunk_map.match(/h/g) || []).length, flight = (t.chunk_map.match(/f/g) || []).length;
  c.dataset.held = held; c.dataset.total = t.chunks;
  c.setAttribute("aria-label", `${held} of ${t.chunks} chunks held, ${flight} in flight`);
  const cx = c.getContext("2d"), most = Math.max(1, ...t.rarity);
  for (let i = 0; i < n; i++) {
    const ch = t.chunk_map[i];
    cx.fillStyle = ch === "h" ? "#2a9d8f" : ch === "f" ? "#f4a261"
      : t.rarity[i] === 0 ? "#e63946" : `hsl(220, 10%, ${85 - 40 * t.rarity[i] / most}%)`;
    cx.fillRect((i % cols) * 8, Math.floor(i / cols) * 8, 7, 7);
  }
  const cap = el("p", { class: "mapcap" },
    `${held} of ${t.chunks} chunks held, ${flight} in flight` +
    (t.chunks > n ? ` (first ${n} drawn)` : "") + ". Missing chunks are darker the more peers hold them; red: no peer has it.");
  return [c, cap];
}

function transferBox(t, now) {
  const box = el("div", { class: "transfer", "data-cid": t.content_id });
  const pct = t.bytes_total ? (100 * t.bytes_done / t.bytes_total).toFixed(1) : "0";
  box.append(el("h3", {}, `${t.name || "(hashing)"} · ${t.role} · ${t.state} · ${pct}%`),
    el("p", {}, `${t.content_id.slice(0, 16)} · ↓ ${rate(t.rate_down)} ↑ ${rate(t.rate_up)} · ` +
      `${count(t.peer_count, "peer")} · ${count(t.bans, "ban")}`));
  if (t.chunk_map) box.append(...chunkMap(t));
  if (t.peers.length) {
    const tb = el("table", { class: "peers" });
    tb.append(el("caption", {}, "Peers"));
    const hr = el("tr");
    for (const h of ["peer", "state", "↓ rate", "↑ rate", "chunks", "requests"]) hr.append(el("th", {}, h));
    tb.append(hr);
    for (const p of t.peers) {
      const key = t.content_id + p.addr, prev = upSeen.get(key);
      const up = prev && now > prev[1] ? (p.uploaded - prev[0]) * 1000 / (now - prev[1]) : 0;
      upSeen.set(key, [p.uploaded, now]);
      const tr = el("tr");
      tr.append(el("td", {}, p.addr), el("td", {}, peerState(p)), el("td", {}, rate(p.rate_down)),
                el("td", {}, rate(Math.max(0, up))), el("td", {}, String(p.has)), el("td", {}, String(p.requests)));
      tb.append(tr);
    }
    box.append(tb);
  }
  if (t.rounds.length) {
    box.append(el("p", {}, "Last choker rounds:"));
    const ul = el("ul", { class: "rounds" });
    for (const r of t.rounds) {
      const why = r.unchoked.map((u) => `${u.addr || "(gone)"} ${u.why}` +
        (u.why === "rate" ? ` ${rate(u.rate_down)}` : "")).join(", ");
      ul.append(el("li", {}, `${r.ago_s.toFixed(1)} s ago` + (r.regular ? ", regular" : "") +
        (r.optimistic ? ", optimistic" : "") + `: ${why || "nobody unchoked"}`));
    }
    box.append(ul);
  }
  return box;
}

async function pollTransfers() {
  try {
    const r = await getJSON("/api/transfers"), now = Date.now(), div = $("transfers");
    div.replaceChildren();
    if (!r.transfers.length) div.append(el("p", {}, "None."));
    for (const t of r.transfers) div.append(transferBox(t, now));
  } catch (e) { /* the node is gone: the summary says so */ }
}

$("lookup-form").addEventListener("submit", (ev) => lookup(ev).catch((e) => {
  $("lookup-result").textContent = "Lookup failed: " + e;
}));
pollStatus().then(pollRing);
setInterval(pollStatus, 2000);
setInterval(pollRing, 2000);
pollTransfers();
setInterval(pollTransfers, 1000);
