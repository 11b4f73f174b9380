#!/usr/bin/env bash
# (b) A leecher fetches from an honest seed (upload capped) and from a liar that shares the
# same file but corrupts every block it uploads (--debug-corrupt-uploads): the leecher bans the
# liar and still ends with a correct copy.
SLOT=12
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

node_args()
{
	case "$1" in
	0) echo "--up-rate=1MiB" ;;
	1) echo "--debug-corrupt-uploads" ;;
	esac
	true
}
start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
seed=$(addr_of 0) liar=$(addr_of 1) leech=$(addr_of 2)
make_file "$PROCS_DIR/src.bin" 4
cid=$(share_cid "$seed" "$PROCS_DIR/src.bin")
[ "$(share_cid "$liar" "$PROCS_DIR/src.bin")" = "$cid" ] || fail "the liar's content id differs"
mkdir -p "$PROCS_DIR/out"
"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$PROCS_DIR/out" >"$PROCS_DIR/fetch.json" ||
	fail "the fetch failed: $(tail -n 1 "$PROCS_DIR/fetch.json")"
same_file "$PROCS_DIR/src.bin" "$PROCS_DIR/out/src.bin"
bans=$(xfer_field "$leech" "$cid" bans)
[ "${bans:-0}" -ge 1 ] || fail "the leecher banned nobody (bans=$bans)"
grep -q "banned peer" "$(node_log "$leech")" || fail "the leecher's log does not name the ban"
note "the leecher banned $bans peer(s) and its copy is correct"
check_logs
note "ok"
