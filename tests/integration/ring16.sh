#!/usr/bin/env bash
# (a) 16 real nodes, joining through random members four at a time, form one consistent ring:
# the walk from any member closes over exactly the 16 nodes started.
SLOT=1
. "$(dirname "$0")/common.sh"

note "starting 16 nodes"
start_ring 16 4 addr_of
wait_ring "$(addr_of 0)" 90
note "the ring is consistent from $(addr_of 0); checking from two other members"
for i in 7 15; do
	ring_ok "$(addr_of $i)" 16 || fail "the ring seen from $(addr_of $i) is not the same consistent ring"
done
"$DHTCTL_BIN" --node "$(addr_of 3)" ring
check_logs
note "ok"
