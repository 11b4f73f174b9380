// Drives headless Chromium (Debian's, through playwright-core) against a node's web view and
// checks what a person would see: every member on the circle, a lookup's path after typing a
// key, a transfer's chunk map filling (--fetch, a dhtctl command line as JSON, run here once
// the page is up, so that the download cannot end before the page is watched), a crashed member leaving the circle and a new one
// (--joiner, a dhtnode command line as JSON, started here) appearing. Screenshots go to
// --shots. The joiner's PID is appended to --pids-file, and it is killed here by PID. Run by tests/integration/web_view.sh, which starts the lab; exit 0 on
// success, 1 with a "FAIL:" line otherwise.
"use strict";
const { chromium } = require("playwright-core");
const { parseArgs } = require("node:util");
const { spawn } = require("node:child_process");
const fs = require("node:fs");

const { values: o } = parseArgs({ options: {
  url: { type: "string" }, shots: { type: "string" }, members: { type: "string" },
  key: { type: "string" }, cid: { type: "string" }, "crash-pid": { type: "string" },
  fetch: { type: "string" }, joiner: { type: "string" }, "pids-file": { type: "string" }, "joiner-log": { type: "string" },
  chromium: { type: "string", default: process.env.CHROMIUM || "/usr/bin/chromium" },
} });

function fail(msg) { console.log("FAIL: " + msg); process.exit(1); }
function note(msg) { console.log("== " + msg); }

async function membersShown(page) { return page.locator("#members g.member").count(); }

async function waitFor(what, secs, fn) {
  const end = Date.now() + secs * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail(`timed out after ${secs} s waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

async function checkRing(page, want) {
  await waitFor(`${want} members on the circle`, 20, async () => (await membersShown(page)) === want);
  await waitFor("this node marked", 5, async () => (await page.locator("#members g.self").count()) === 1);
  const chords = await page.locator("#chords path.chord").count();
  const succ = await page.locator("#members g.succ").count();
  note(`the circle shows ${want} members, ${succ} successors, ${chords} finger chords`);
  if (succ < 1) fail("no successor is marked on the circle");
  await page.screenshot({ path: `${o.shots}/ring.png`, fullPage: true });
}

async function checkLookup(page) {
  await page.fill("#lookup-key", o.key);
  await page.click("#lookup-form button");
  const text = await waitFor("the lookup's answer", 20, async () => {
    const t = await page.locator("#lookup-result").textContent();
    return t && !t.startsWith("Looking") ? t : null;
  });
  if (!text.includes("is owned by")) fail(`the lookup shows no owner: ${text}`);
  const hops = Number(/(\d+) hops?/.exec(text)[1]);
  const shown = await page.locator("#lookup-path li").count();
  const lines = await page.locator("#path line.hopline").count();
  if (shown !== hops || lines !== hops) fail(`the lookup took ${hops} hops but ${shown} are listed, ${lines} drawn`);
  for (const li of await page.locator("#lookup-path li").allTextContents())
    if (!/ ms$|no answer$/.test(li)) fail(`a hop without its round trip: ${li}`);
  note(`lookup of "${o.key}": ${text} (${hops} hops listed and drawn)`);
  await page.screenshot({ path: `${o.shots}/lookup.png`, fullPage: true });
}

// Run the command line ARGV (JSON) to its end; fail unless it exits 0.
function run(argv) {
  const a = JSON.parse(argv), child = spawn(a[0], a.slice(1), { stdio: "ignore" });
  return new Promise((ok) => child.on("exit", (code) => ok(code)));
}

// The map of the transfer o.cid: seen part-filled, then full.
async function checkTransfer(page) {
  const fetched = o.fetch ? run(o.fetch) : Promise.resolve(0);
  const map = page.locator(`.transfer[data-cid="${o.cid}"] canvas.chunkmap`);
  const held = async () => (await map.count()) ? map.getAttribute("data-held").then(Number) : -1;
  const total = await waitFor("the transfer's chunk map", 30, async () =>
    (await map.count()) ? Number(await map.getAttribute("data-total")) : 0);
  const first = await waitFor("a part-filled chunk map", 30, async () => {
    const h = await held();
    return h >= 0 && h < total ? String(h) : null;
  });
  const box = `.transfer[data-cid="${o.cid}"]`;
  const peers = await page.locator(`${box} table.peers tr td:first-child`).allTextContents();
  if (peers.length < 1) fail("a download under way shows no peer");
  const states = await page.locator(`${box} table.peers tr td:nth-child(2)`).allTextContents();
  note(`while filling: peers ${peers.map((p, i) => `${p} (${states[i]})`).join(", ")}`);
  await page.screenshot({ path: `${o.shots}/transfer-filling.png`, fullPage: true });
  await waitFor("a part-filled map to grow", 60, async () => (await held()) > Number(first));
  await waitFor("the chunk map to fill", 120, async () => (await held()) === total);
  const code = await fetched;
  if (code !== 0) fail(`the fetch exited ${code}`);
  const caption = await page.locator(`${box} .mapcap`).textContent();
  note(`the chunk map filled from ${first} to ${total} of ${total} chunks (${caption})`);
  const rounds = await page.locator(`${box} ul.rounds li`).count();
  if (rounds < 1) fail("no choker round is shown");
  note(`${rounds} choker rounds shown`);
  await page.screenshot({ path: `${o.shots}/transfer-done.png`, fullPage: true });
}

async function checkCrash(page, want) {
  process.kill(Number(o["crash-pid"]), "SIGKILL");
  const t0 = Date.now();
  await waitFor(`the crashed member to leave the circle`, 30, async () => (await membersShown(page)) === want - 1);
  note(`a crashed member left the circle after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.screenshot({ path: `${o.shots}/after-crash.png`, fullPage: true });
}

let joiner = null;
async function checkJoin(page, want) {
  const argv = JSON.parse(o.joiner), log = fs.openSync(o["joiner-log"] || "/dev/null", "a");
  joiner = spawn(argv[0], argv.slice(1), { stdio: ["ignore", log, log] });
  if (o["pids-file"]) fs.appendFileSync(o["pids-file"], `${joiner.pid}\n`);
  const t0 = Date.now();
  await waitFor("the new member on the circle", 30, async () => (await membersShown(page)) === want);
  note(`a member that joined appeared on the circle after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.screenshot({ path: `${o.shots}/after-join.png`, fullPage: true });
}

(async () => {
  const browser = await chromium.launch({ executablePath: o.chromium, headless: true, args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("request", (r) => { if (!r.url().startsWith(o.url)) errors.push("external request: " + r.url()); });
    await page.goto(o.url);
    const want = Number(o.members);
    await checkRing(page, want);
    await checkLookup(page);
    if (o.cid) await checkTransfer(page);
    if (o["crash-pid"]) await checkCrash(page, want);
    if (o.joiner) await checkJoin(page, o["crash-pid"] ? want : want + 1);
    if (errors.length) fail("the page reported errors: " + errors.join("; "));
    note(`screenshots in ${o.shots}`);
  } finally {
    if (joiner) joiner.kill("SIGKILL");
    await browser.close();
  }
})().catch((e) => fail(String(e && e.stack || e)));
