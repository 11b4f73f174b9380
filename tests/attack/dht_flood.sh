#!/usr/bin/env bash
# (issue 10) Storage flooding: one source sends 300 puts of 1000-byte values with the longest
# TTL to a node whose store holds 256 KiB (the old limit fell to 247 such datagrams, for 7 days).
# Its quota stops it at a sixteenth of the store, and members' puts keep working everywhere.
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
check_logs
note "ok"
