#!/usr/bin/env bash
# Issue 10: a client that asks a seed for its manifest 20,000 times and never reads the answers
# grew the seed from 7 MB to 327 MB. Now every answer counts against what the asker left unread
# (the session ends it) and the node stops reading a connection whose output is backlogged.
# First the same attacker, asking 8 at a time and reading, is served every piece.
SLOT=38
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"
: "${wireattack_BIN:?wireattack_BIN must name the attacker}"

start_ring 1 1 addr_of
seed=$(addr_of 0) me=127.0.$SLOT.200
# A manifest of several 16 KiB pieces: 300 files with long names.
mkdir -p "$PROCS_DIR/tree"
for i in $(seq 300); do
	printf x >"$PROCS_DIR/tree/$(printf 'a-file-with-a-long-name-%0100d' "$i")"
done
cid=$(share_cid "$seed" "$PROCS_DIR/tree")
bits=$("$DHTCTL_BIN" --node "$seed" --json status | jget bits)
attack()
{
	"$wireattack_BIN" --mode manifest --to "$seed" --from "$me" --content "$cid" --bits "$bits" "$@"
}
rss_kb()
{
	awk '/^VmRSS/ { print $2 }' "/proc/${NODE_PID[$seed]}/status"
}

out=$(attack --count 500 --read --seconds 30)
[ "$out" = "pieces 500" ] || fail "the honest asker was not served: $out"
note "honest: 500 manifest pieces asked 8 at a time and read: $out"

before=$(rss_kb)
out=$(attack --count 20000 --seconds 8)
after=$(rss_kb)
note "attack: $out; seed RSS $((before / 1024)) MiB -> $((after / 1024)) MiB"
[ $((after - before)) -lt 65536 ] || fail "the seed grew by $(((after - before) / 1024)) MiB"
grep -q "leaves our answers unread" "$(node_log "$seed")" || true

out=$(attack --count 200 --read --seconds 30)
[ "$out" = "pieces 200" ] || fail "the seed no longer serves an honest asker: $out"
check_logs
note "ok"
