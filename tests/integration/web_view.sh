#!/usr/bin/env bash
# The web view in a real browser: headless Chromium (Debian's package, driven by playwright-core
# from tests/browser) loads the page of a lab of five real nodes and checks what a person sees
# (tests/browser/web_view.js): every member on the circle with this node's successors and
# finger chords, the path of a lookup typed into the box with each hop's round trip, the chunk
# map of a download (its seed's upload capped so that it takes seconds) seen part-filled, then
# growing, then full, a member killed with SIGKILL leaving the circle and a new member (which
# web_view.js starts, and kills by PID; its PID also goes in the record that the watchdog
# kills) appearing on it. Screenshots are saved
# under $WEB_SHOTS_DIR (the build tree) for people to look at. Without a browser the test says
# so and exits 77 (ctest: skipped), never passes.
# Shares SLOT 43 with web_metrics.sh: this test's nodes are 0..4 (ports +0..4, HTTP +20..24).
SLOT=43
browser_dir=$(cd "$(dirname "$0")/../browser" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
skip() { echo "SKIP: $* (tools/setup-deps installs it)"; exit 77; }
[ -x "$chromium" ] || skip "no Chromium at $chromium"
command -v node >/dev/null || skip "no Node.js to drive the browser"
if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
	timeout 120 npm ci --prefix "$browser_dir" --no-audit --no-fund >/dev/null 2>&1 ||
		skip "playwright-core is not installed in tests/browser and npm ci failed"
fi
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"
shots=${WEB_SHOTS_DIR:-$PROCS_DIR/shots}
mkdir -p "$shots"

http_of() { echo "127.0.$SLOT.$(($1 + 1)):$((PORT_BASE + $1 + 20))"; }
node_args() {
	echo "--http=$(http_of "$1")"
	[ "$1" = 1 ] && echo "--up-rate=512KiB"
	true
}
start_ring 5 4 addr_of --id-bits 24
wait_ring "$(addr_of 0)" 60
# A key node 0 does not own, so that its lookup has a path to show.
for ((i = 0; i < 50; i++)); do
	key="key number $i"
	hops=$("$DHTCTL_BIN" --node "$(addr_of 0)" --json lookup "$key" | jget hops)
	[ "$hops" -ge 1 ] && break
done
[ "$hops" -ge 1 ] || fail "node 0 owns every key tried"
make_file "$PROCS_DIR/src.bin" 6
cid=$(share_cid "$(addr_of 1)" "$PROCS_DIR/src.bin")
note "shared $cid on $(addr_of 1), upload capped at 512 KiB/s; node 0 fetches it once the page is up"
mkdir -p "$PROCS_DIR/out"
timeout 200 node "$browser_dir/web_view.js" --url "http://$(http_of 0)/" --shots "$shots" \
	--members 5 --key "$key" --cid "$cid" --crash-pid "${NODE_PID[$(addr_of 4)]}" \
	--fetch "[\"$DHTCTL_BIN\",\"--node\",\"$(addr_of 0)\",\"fetch\",\"$cid\",\"-o\",\"$PROCS_DIR/out\"]" \
	--joiner "[\"$DHTNODE_BIN\",\"--listen\",\"$(addr_of 5)\",\"--join\",\"$(addr_of 2)\",\"--id-bits\",\"24\",\"--data-dir\",\"$PROCS_DIR/data/joiner\"]" \
	--pids-file "$PROCS_DIR/pids" --joiner-log "$PROCS_DIR/log/joiner.log" \
	--chromium "$chromium" || fail "the browser's checks failed (screenshots in $shots)"
same_file "$PROCS_DIR/src.bin" "$PROCS_DIR/out/src.bin"
check_logs
note "ok"
