#!/usr/bin/env bash
# (issue 10) Reflection: a request from an address that has not proven it receives there (no
# token) draws an answer no larger than itself, however large the honest answer (a 1000-byte
# value, 50 peers, a full neighbour list). The same requests with a token get the full answers.
SLOT=33
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
owner=$(ctl "$(addr_of 0)" --json lookup big | jget owner.addr)
ATT="127.0.$SLOT.200:$((PORT_BASE + 90))"
att() { "$dhtattack_BIN" --from "$ATT" --to "$owner" "$@"; }

note "honest: a large value and 50 peers are stored and answered in full"
big=$(head -c 1000 /dev/zero | tr '\0' v)
ctl "$(addr_of 1)" put big "$big" >/dev/null || fail "put big failed"
for p in $(seq 1 50); do
	out=$(att announce big "127.0.0.1:$((20000 + p))")
	[ "$out" = "STORED ok" ] || fail "an honest announce was not served: $out"
done
out=$(att get big)
[ "${#out}" -gt 1000 ] || fail "an honest GET was not answered in full: ${out:0:60}"
[ "$(att peers big | wc -w)" = 51 ] || fail "an honest GET_PEERS was not answered in full"

note "the same requests without a token: answers no larger than the requests"
for req in "get big" "peers big" "find big" "neigh" "ping"; do
	out=$(att size $req)
	read -r _ rq _ rp <<<"$out"
	echo "   $req: request $rq bytes, answer $rp bytes"
	[ "$rp" -le "$rq" ] || fail "$req without a token drew $rp bytes for $rq"
done
check_logs
note "ok"
