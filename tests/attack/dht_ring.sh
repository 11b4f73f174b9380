#!/usr/bin/env bash
# (issue 10) Hostile membership notices: NOTIFY and JOIN claiming the id just before a victim's,
# from a sender that does not prove its address, and LEAVEs naming the victim's neighbours sent
# from another address (the attacker's own, proven), again and again. The victim keeps its
# predecessor and successor throughout, and every key stays readable. The attacker is first shown
# to be served when it asks honestly.
SLOT=32
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

IDS=(1000 5000 a000)
node_args() { printf '%s\n' --id-bits 16 --id "${IDS[$1]}"; }
start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
victim=$(addr_of 1)
ATT="127.0.$SLOT.200:$((PORT_BASE + 90))"
att() { "$dhtattack_BIN" --bits 16 --from "$ATT" --to "$victim" "$@"; }

for i in $(seq 1 30); do ctl "$(addr_of $((i % 3)))" put "key$i" "value$i" >/dev/null ||
	fail "put key$i failed"; done

# neighbours_ok: the victim's predecessor is 1000 and its first successor a000.
neighbours_ok()
{
	local st
	st=$(ctl "$victim" --json status) || return 1
	[ "$(jget predecessor.id <<<"$st")" = 1000 ] && [ "$(jget successors.0.id <<<"$st")" = a000 ]
}

# neighbours: the victim's predecessor and first successor, for messages.
neighbours()
{
	local st
	st=$(ctl "$victim" --json status)
	echo "predecessor $(jget predecessor.id <<<"$st"), successor $(jget successors.0.id <<<"$st")"
}

note "honest: the attacker's GET_NEIGH is answered"
out=$(att neigh)
[[ "$out" == "NEIGH succ"* ]] || fail "an honest request was not served: $out"
neighbours_ok || fail "the ring is not as set up: $(neighbours)"

note "NOTIFY and JOIN as id 4fff from a sender without a token"
for _ in 1 2 3; do
	att --id 4fff --no-token notify >/dev/null
	att --id 4fff --no-token join >/dev/null || true
done
sleep 0.5
neighbours_ok || fail "a forged notice moved the victim's predecessor: $(neighbours)"

note "LEAVEs naming the victim's neighbours, from the attacker's own address, for 3 s"
for _ in $(seq 1 15); do
	att --id 1000 leave >/dev/null
	att --id a000 leave >/dev/null
	att --id 1000 --no-token leave >/dev/null
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
