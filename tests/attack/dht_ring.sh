#!/usr/bin/env bash
# (issue 10) Hostile membership notices: NOTIFY and JOIN claiming the id just before a victim's,
# from a sender that does not prove its address, and LEAVEs naming the victim's neighbours sent
# from another address (the attacker's own, proven), again and again. The victim keeps its
# predecessor and successor throughout, and every key stays readable. The attacker is first shown
# to be served when it asks honestly.
SLOT=32
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

# Ids are derived from the nodes' keys (a chosen --id needs a private ring): the attacker takes
# the real ones from the victim's status.
node_args() { printf '%s\n' --id-bits 16; }
start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
victim=$(addr_of 1)
ATT="127.0.$SLOT.200:$((PORT_BASE + 90))"
att() { "$dhtattack_BIN" --bits 16 --from "$ATT" --to "$victim" "$@"; }

. "$(dirname "$0")/victim.bash" # not *.sh: each *.sh here is a test

for i in $(seq 1 30); do ctl "$(addr_of $((i % 3)))" put "key$i" "value$i" >/dev/null ||
	fail "put key$i failed"; done

note "honest: the attacker's GET_NEIGH is answered"
out=$(att neigh)
[[ "$out" == "NEIGH succ"* ]] || fail "an honest request was not served: $out"
neighbours_ok || fail "the ring is not as set up: $(neighbours)"

note "NOTIFY and JOIN as id $JUST_BEFORE from a sender without a token"
for _ in 1 2 3; do
	att --id "$JUST_BEFORE" --no-token notify >/dev/null
	att --id "$JUST_BEFORE" --no-token join >/dev/null || true
done
sleep 0.5
neighbours_ok || fail "a forged notice moved the victim's predecessor: $(neighbours)"

note "LEAVEs naming the victim's neighbours, from the attacker's own address, for 3 s"
for _ in $(seq 1 15); do
	att --id "$PRED" leave >/dev/null
	att --id "$SUCC" leave >/dev/null
	att --id "$PRED" --no-token leave >/dev/null
	neighbours_ok || fail "a forged LEAVE changed the victim's neighbours: $(neighbours)"
	sleep 0.2
done

note "every key is still readable through every node"
for n in "${NODES[@]}"; do
	for i in $(seq 1 30); do
		[ "$(ctl "$n" get "key$i")" = "value$i" ] || fail "key$i is not readable through $n"
	done
done
check_logs
note "ok"
