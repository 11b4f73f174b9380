#!/usr/bin/env bash
# (issue 10) Storage flooding: one source sends 300 puts of 1000-byte values with the longest
# TTL to a node whose store holds 256 KiB (the old limit fell to 247 such datagrams, for 7 days).
# Its quota stops it at a sixteenth of the store, and members' puts keep working everywhere. Then
# a burst of PINGs from that address: the node answers what its rate limit lets through, no more.
SLOT=34
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

start_ring 3 2 addr_of --store-max 256KiB
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
target=$(addr_of 1)
ATT="127.0.$SLOT.200:$((PORT_BASE + 90))"

note "honest, then flooding: 300 puts of 1000 bytes for 7 days from one address"
out=$("$dhtattack_BIN" --from "$ATT" --to "$target" flood-put 300 604800)
echo "   $out"
read -r _ stored _ total <<<"$out"
[ "$stored" -ge 1 ] || fail "the attacker's first, honest puts were not served: $out"
[ "$stored" -le 20 ] || fail "one source stored $stored of $total values"

note "members' puts still succeed and are readable through every node"
for i in $(seq 1 30); do
	ctl "$(addr_of $((i % 3)))" put "member$i" "$(head -c 900 /dev/zero | tr '\0' m)" \
		>/dev/null || fail "a member's put failed after the flood (key member$i)"
done
for n in "${NODES[@]}"; do
	for i in 1 15 30; do
		[ "$(ctl "$n" get "member$i" | wc -c)" = 901 ] || fail "member$i unreadable through $n"
	done
done
note "rate: 6000 PINGs back to back from one address (the limit: bursts of 2000, 1000 a second)"
out=$("$dhtattack_BIN" --from "$ATT" --to "$target" --timeout-ms 500 burst 6000)
echo "   $out"
read -r _ answered _ _ <<<"$out"
[ "$answered" -ge 1 ] || fail "the first PINGs were not answered: $out"
[ "$answered" -le 3500 ] || fail "one address had $answered of 6000 PINGs answered at once"
ctl "$target" --json status >/dev/null || fail "the flooded node stopped answering its control port"
ctl "$(addr_of 0)" get member1 >/dev/null || fail "members' gets failed after the ping flood"
check_logs
note "ok"
