#!/usr/bin/env bash
# (issue 11) In a private ring (--network-key) ids may be chosen (--id): every member is trusted
# by holding the key, and proves only that it holds the key it names. Four nodes at chosen ids
# form one ring, each shows its neighbours' proven keys, and nobody was refused.
SLOT=54
. "$(dirname "$0")/common.sh"

key=$PROCS_DIR/net.key
"$DHTCTL_BIN" keygen "$key" >/dev/null || fail "dhtctl keygen failed"
ids=(10 50 90 d0)
node_args() { printf '%s\n' --id-bits 8 --network-key "$key" --id "${ids[$1]}"; }
start_ring 4 2 addr_of
wait_ring "$(addr_of 0)" 60

for i in 0 1 2 3; do
	st=$("$DHTCTL_BIN" --node "$(addr_of $i)" --json status) || fail "no status from node $i"
	[ "$(jget id <<<"$st")" = "${ids[$i]}" ] || fail "node $i does not have its chosen id"
	[ "$(jget predecessor.id <<<"$st")" = "${ids[$(((i + 3) % 4))]}" ] || fail "node $i: wrong predecessor"
	[ "$(jget stats.ids_refused <<<"$st")" = 0 ] || fail "node $i refused an id in a private ring"
	[[ "$(jget successors.0.public_key <<<"$st")" =~ ^[0-9a-f]{64}$ ]] ||
		fail "node $i shows no proven key for its successor"
done
check_logs
note "ok"
