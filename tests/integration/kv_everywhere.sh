#!/usr/bin/env bash
# (b) Values put through one node are read, intact, through every other node of a 16-node ring,
# both with the load driver and with dhtctl itself.
SLOT=2
. "$(dirname "$0")/common.sh"

start_ring 16 4 addr_of
wait_ring "$(addr_of 0)" 90

note "putting 40 keys through $(addr_of 0), reading each through all 16 nodes"
"$KVLOAD_BIN" --nodes "$(nodes_file one "$(addr_of 0)")" --keys 40 --prefix it -v put ||
	fail "puts through one node failed"
"$KVLOAD_BIN" --nodes "$(nodes_file all "${NODES[@]}")" --keys 40 --prefix it -v getall ||
	fail "some value could not be read through some node"

note "dhtctl: put through node 5, get through every node"
"$DHTCTL_BIN" --node "$(addr_of 5)" put greeting "hello, ring" >/dev/null || fail "dhtctl put failed"
for addr in "${NODES[@]}"; do
	got=$("$DHTCTL_BIN" --node "$addr" get greeting) || fail "dhtctl get through $addr failed"
	[ "$got" = "hello, ring" ] || fail "dhtctl get through $addr read '$got'"
done
check_logs
note "ok"
