#!/usr/bin/env bash
# Issue 11: a private ring's transfers run over the network-key handshake and encrypted
# records, and work as before: (a) a leecher fetches from an honest seed and a liar sharing the
# same file (the liar corrupts every block, --debug-corrupt-uploads) and bans the liar, its
# copy correct; (b) a fetch stopped halfway resumes and completes. Every connection proved the
# network key and the peer's node key first (the logs say so, with the cipher).
SLOT=28
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

"$DHTCTL_BIN" keygen "$PROCS_DIR/net.key" >/dev/null || fail "keygen failed"
node_args()
{
	echo "--network-key=$PROCS_DIR/net.key"
	case "$1" in
	0) echo "--up-rate=1MiB" ;;
	1) echo "--debug-corrupt-uploads" ;;
	2) echo "--log-level=debug" ;;
	esac
	true
}
start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
seed=$(addr_of 0) liar=$(addr_of 1) leech=$(addr_of 2)
mkdir -p "$PROCS_DIR/out"

note "(a) a keyed fetch from a seed and a liar: the liar is banned, the copy is correct"
make_file "$PROCS_DIR/src.bin" 4
cid=$(share_cid "$seed" "$PROCS_DIR/src.bin")
[ "$(share_cid "$liar" "$PROCS_DIR/src.bin")" = "$cid" ] || fail "the liar's content id differs"
"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$PROCS_DIR/out" >"$PROCS_DIR/fetch.json" ||
	fail "the fetch failed: $(tail -n 1 "$PROCS_DIR/fetch.json")"
same_file "$PROCS_DIR/src.bin" "$PROCS_DIR/out/src.bin"
bans=$(xfer_field "$leech" "$cid" bans)
[ "${bans:-0}" -ge 1 ] || fail "the leecher banned nobody (bans=$bans)"
grep -q "banned peer" "$(node_log "$leech")" || fail "the leecher's log does not name the ban"
grep -q "network-key handshake done (aes256gcm\|network-key handshake done (chacha20poly1305" \
	"$(node_log "$leech")" || fail "the leecher's log shows no network-key handshake"
if grep -q "this ring uses a network key\|network-key handshake (\|malformed record\|does not open" \
	"$PROCS_DIR"/log/*.log; then
	fail "members of one ring refused each other: $(grep -h "network.key\|record" "$PROCS_DIR"/log/*.log | head -3)"
fi
note "banned $bans peer(s), copy correct, $(grep -c "network-key handshake done" "$(node_log "$leech")") handshakes"

note "(b) a keyed fetch stopped halfway resumes"
make_file "$PROCS_DIR/big.bin" 6
cid=$(share_cid "$seed" "$PROCS_DIR/big.bin")
total=$((6 * 1048576))
"$DHTCTL_BIN" --node "$leech" fetch "$cid" -o "$PROCS_DIR/out" --no-wait >/dev/null ||
	fail "the fetch did not start"
some() { [ "$(xfer_field "$leech" "$cid" bytes_done)" -ge $((total / 4)) ] 2>/dev/null; }
wait_until 60 "the leecher to be 25% done" some || fail "the download did not progress"
"$DHTCTL_BIN" --node "$leech" stop "$cid" >/dev/null || fail "stop failed"
before=$(xfer_field "$leech" "$cid" bytes_done)
[ "$before" -lt "$total" ] || fail "the download finished before the stop; make the file larger"
"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$PROCS_DIR/out" >"$PROCS_DIR/fetch2.json" ||
	fail "the resumed fetch failed: $(tail -n 1 "$PROCS_DIR/fetch2.json")"
same_file "$PROCS_DIR/big.bin" "$PROCS_DIR/out/big.bin"
note "stopped at $before of $total bytes, resumed, copy correct"
check_logs
note "ok"
