#!/usr/bin/env bash
# (c) kill -9 a quarter of a 16-node ring at once, two of them neighbours on the ring: the
# survivors repair the ring and every value is readable again (replicas promoted).
SLOT=3
. "$(dirname "$0")/common.sh"

start_ring 16 4 addr_of
wait_ring "$(addr_of 0)" 90
all=$(nodes_file all "${NODES[@]}")
"$KVLOAD_BIN" --nodes "$all" --keys 100 --prefix crash -v putget || fail "puts or gets failed before the crash"

mapfile -t order < <(ring_members "$(addr_of 0)")
victims=("${order[1]}" "${order[2]}" "${order[7]}" "${order[12]}")
note "kill -9 ${victims[*]} (ring positions 1, 2, 7, 12)"
t0=$(date +%s%3N)
nodes_crash "${victims[@]}"
survivors=$(nodes_file survivors "${NODES[@]}")
wait_ring "${NODES[0]}" 90
note "the ring of 12 is consistent $(($(date +%s%3N) - t0)) ms after the crash"
"$KVLOAD_BIN" --nodes "$survivors" --keys 100 --prefix crash --since-ms "$t0" --max-seconds 60 \
	recover || fail "values were lost or stayed unreadable"
"$KVLOAD_BIN" --nodes "$survivors" --keys 100 --prefix crash -v getall ||
	fail "some value is not readable through every survivor"
check_logs
note "ok"
