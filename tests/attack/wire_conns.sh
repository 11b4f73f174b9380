#!/usr/bin/env bash
# Issue 10: 150 connections trickling a HANDSHAKE one byte every 8 s held descriptors for good
# (the pre-handshake timeout restarted with every byte) until the node hit its descriptor limit
# and control stopped answering; 80 handshaken idle connections starved an honest fetch. Now a
# handshake has a hard deadline from the accept, connections are capped per host and in total
# below the descriptor limit (room kept for control), and the oldest silent one makes room.
# First the same attacker, sending its handshakes at once, is answered.
SLOT=39
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"
: "${wireattack_BIN:?wireattack_BIN must name the attacker}"

seed=$(addr_of 0) leech=$(addr_of 1) me=127.0.$SLOT.200
soft=$(ulimit -Sn)
ulimit -Sn 256 # the seed runs at a small descriptor limit, which the attack used to exhaust
node_start "$seed"
ulimit -Sn "$soft"
wait_joined 30 "$seed"
node_start "$leech" --join "$seed"
wait_joined 60 "$leech"
make_file "$PROCS_DIR/src.bin" 16
cid=$(share_cid "$seed" "$PROCS_DIR/src.bin")
bits=$("$DHTCTL_BIN" --node "$seed" --json status | jget bits)
attack()
{
	"$wireattack_BIN" --to "$seed" --from "$me" --content "$cid" --bits "$bits" "$@"
}

out=$(attack --mode trickle --interval 0 --count 2 --seconds 2)
[ "$out" = "answered 2 open 2" ] || fail "handshakes sent at once were not answered: $out"
out=$(attack --mode idle --count 2 --seconds 2)
[ "$out" = "answered 2 open 2" ] || fail "handshaken connections were not answered: $out"
note "honest: handshakes sent at once are answered"

attack --mode trickle --interval 8 --count 150 --seconds 30 >"$PROCS_DIR/trickle.out" &
trickler=$!
attack --mode idle --count 80 --seconds 30 >"$PROCS_DIR/idle.out" &
idler=$!
# Stop the attackers (by PID) whatever way the test ends, then the nodes.
on_exit()
{
	local rc=$?
	kill "$trickler" "$idler" 2>/dev/null || true
	[ "$rc" -eq 0 ] || PROCS_FAILED=1
	procs_cleanup
}
trap on_exit EXIT
sleep 12
for i in 1 2 3; do
	"$DHTCTL_BIN" --node "$seed" --timeout 3 --json status >/dev/null ||
		fail "control stopped answering under the attack"
done
note "control answers under the attack ($(ls "/proc/${NODE_PID[$seed]}/fd" | wc -l) descriptors open)"
mkdir -p "$PROCS_DIR/out"
start=$SECONDS
"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$PROCS_DIR/out" >"$PROCS_DIR/fetch.json" ||
	fail "the honest fetch failed: $(tail -n 1 "$PROCS_DIR/fetch.json")"
took=$((SECONDS - start))
same_file "$PROCS_DIR/src.bin" "$PROCS_DIR/out/src.bin"
note "the honest 16 MiB fetch took ${took}s under the attack"
[ "$took" -le 10 ] || fail "the honest fetch was starved: ${took}s"
wait "$trickler" "$idler"
note "tricklers: $(cat "$PROCS_DIR/trickle.out"); idlers: $(cat "$PROCS_DIR/idle.out")"
read -r _ _ _ open <"$PROCS_DIR/trickle.out"
[ "$open" = 0 ] || fail "$open trickling connections outlived the handshake deadline"
check_logs
note "ok"
