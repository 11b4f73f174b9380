#!/usr/bin/env bash
# (d) Graceful leaves (SIGTERM) lose nothing: four ring neighbours leave one after another, then
# two more at the same time. Each must exit 0, and every value stays readable through every
# survivor. The nodes keep no replicas (--replicas 0), so only the hand-over on leave can save
# the values: a leave that dropped its keys fails this test.
SLOT=4
. "$(dirname "$0")/common.sh"

start_ring 16 4 addr_of --replicas 0
wait_ring "$(addr_of 0)" 90
"$KVLOAD_BIN" --nodes "$(nodes_file all "${NODES[@]}")" --keys 100 --prefix leave -v put ||
	fail "puts failed"

mapfile -t order < <(ring_members "$(addr_of 0)")
for i in 3 4 5 6; do
	note "SIGTERM ${order[$i]} (ring position $i)"
	node_stop "${order[$i]}" TERM || fail "${order[$i]} did not leave cleanly (exit $?)"
done
note "SIGTERM ${order[10]} and ${order[13]} at once"
kill -TERM "${NODE_PID[${order[10]}]}" "${NODE_PID[${order[13]}]}"
node_wait "${order[10]}" || fail "${order[10]} did not leave cleanly"
node_wait "${order[13]}" || fail "${order[13]} did not leave cleanly"

wait_ring "${NODES[0]}" 60
survivors=$(nodes_file survivors "${NODES[@]}")
"$KVLOAD_BIN" --nodes "$survivors" --keys 100 --prefix leave --max-seconds 30 recover ||
	fail "values were lost in the leaves"
"$KVLOAD_BIN" --nodes "$survivors" --keys 100 --prefix leave -v getall ||
	fail "some value is not readable through every survivor"
check_logs
note "ok"
