#!/usr/bin/env bash
# (issue 11) A private ring: four nodes with one network key work as an open ring does (put,
# get, lookup, ring). Outsiders get nothing: a node with no key and one with another key cannot
# join (each exits saying why) and are not listed by `ring`; raw datagrams without the key, with
# another ring's key, or forged under this ring's tag get no answer and only raise the victim's
# refusal counters (status and /metrics). The attacker is first shown to be served when it holds
# the key. A keyed node that tries to join an open ring fails too, and the open node says why.
SLOT=47
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

keys="$PROCS_DIR/keys"
mkdir -p "$keys"
"$DHTCTL_BIN" keygen "$keys/ring" >/dev/null || fail "dhtctl keygen failed"
"$DHTCTL_BIN" keygen "$keys/other" >/dev/null || fail "dhtctl keygen failed"
node_args() { [ "$1" != 0 ] || printf '%s\n' --http "127.0.$SLOT.1:$((PORT_BASE + 80))"; }
start_ring 4 3 addr_of --id-bits 16 --network-key "$keys/ring"
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
victim=$(addr_of 1)
ATT="127.0.$SLOT.200:$((PORT_BASE + 90))"
att() { "$dhtattack_BIN" --bits 16 --from "$ATT" --to "$victim" --timeout-ms 600 "$@"; }
# refused REASON: the victim's count of datagrams refused for REASON.
refused() { ctl "$victim" --json status | jget "network.refused.$1"; }
answered() { ctl "$victim" --json status | jget stats.received; }

note "the keyed ring works: put, get and lookup through every node, ring"
for i in $(seq 1 12); do ctl "$(addr_of $((i % 4)))" put "key$i" "value$i" >/dev/null ||
	fail "put key$i failed"; done
for n in "${NODES[@]}"; do
	for i in 1 6 12; do
		[ "$(ctl "$n" get "key$i")" = "value$i" ] || fail "key$i is not readable through $n"
	done
	ctl "$n" lookup key3 >/dev/null || fail "lookup through $n failed"
done
st=$(ctl "$victim" --json status)
[ "$(jget network.keyed <<<"$st")" = true ] || fail "status does not say the ring is keyed: $st"
ctl "$victim" status | grep -q "^network *private (network key tag $(jget network.tag <<<"$st"))" ||
	fail "status text does not show the network: $(ctl "$victim" status)"

# refuse_join PATTERN ARGS...: a node started with ARGS exits non-zero within 60 s, saying PATTERN.
refuse_join()
{
	local pattern=$1 rc=0 err="$PROCS_DIR/join.err"
	shift
	mkdir -p "$PROCS_DIR/data/outsider"
	timeout -s KILL 60 "$DHTNODE_BIN" --data-dir "$PROCS_DIR/data/outsider" --id-bits 16 "$@" \
		</dev/null >/dev/null 2>"$err" || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 137 ] || fail "dhtnode $* did not fail in time (exit $rc)"
	grep -qE -- "$pattern" "$err" || fail "dhtnode $* said '$(tail -3 "$err")', expected /$pattern/"
	note "dhtnode $* -> exit $rc: $(grep -oE -- "$pattern" "$err" | head -1)"
}
note "outsiders cannot join"
refuse_join 'if that ring uses a network key, start this node with --network-key FILE' \
	--listen "127.0.$SLOT.50:$((PORT_BASE + 50))" --join "$victim"
refuse_join 'may be an open ring, or a ring with another key' \
	--listen "127.0.$SLOT.51:$((PORT_BASE + 51))" --join "$victim" --network-key "$keys/other"
grep -q "from 127.0.$SLOT.50:.*not sealed — an open node? this ring uses a network key" \
	"$(node_log "$victim")" || fail "the victim did not say why it refused the open node"
grep -q "from 127.0.$SLOT.51:.*another network key" "$(node_log "$victim")" ||
	fail "the victim did not say why it refused the other ring's node"
wait_ring "$(addr_of 0)" 30
ring_members "$(addr_of 2)" | grep -qE "127.0.$SLOT.5[01]:" && fail "an outsider is listed by ring"

note "honest: with the key, the attacker's requests are answered"
[[ "$(att --network-key "$keys/ring" ping)" == PONG* ]] || fail "a keyed PING got no PONG"
[[ "$(att --network-key "$keys/ring" get key6)" == "VALUE value6"* ]] ||
	fail "a keyed GET was not served: $(att --network-key "$keys/ring" get key6)"

# outsider REASON ARGS...: each request from the attacker (ARGS before the command) gets no
# answer, and the victim's count for REASON grows by at least one per request.
outsider()
{
	local reason=$1 before out
	shift
	before=$(refused "$reason")
	for cmd in ping neigh "get key6" "put key6 stolen"; do
		# shellcheck disable=SC2086 # the command's words
		out=$(att "$@" $cmd) || true
		[[ "$out" == TIMEOUT* || -z "$out" ]] || fail "an outsider ($reason) was answered: $cmd -> $out"
	done
	[ "$(refused "$reason")" -ge $((before + 4)) ] ||
		fail "the victim counted $(refused "$reason") $reason datagrams, $before before"
	note "$reason: 4 requests, no answer, refused counted $before -> $(refused "$reason")"
}
outsider not_sealed
outsider other_key --network-key "$keys/other"

note "forged: this ring's tag over random bytes"
tag=$(jget network.tag <<<"$st")
before=$(refused forged)
python3 - "$victim" "$tag" <<'EOF'
import os, socket, sys
host, port = sys.argv[1].rsplit(':', 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    s.sendto(b'\xe5\x01' + bytes.fromhex(sys.argv[2]) + os.urandom(80), (host, int(port)))
EOF
forged_at_least() { [ "$(refused forged)" -ge "$1" ]; }
wait_until 5 "forged datagrams counted" forged_at_least $((before + 5)) ||
	fail "forged datagrams were not counted: $(refused forged), $before before"
[ "$(ctl "$victim" get key6)" = value6 ] || fail "key6 changed"

note "status and /metrics show the refusals"
ctl "$victim" status | grep -qE "^refused +[1-9][0-9]* not sealed, [1-9][0-9]* other key, [1-9][0-9]* forged" ||
	fail "status text does not show the refusals: $(ctl "$victim" status | tail -3)"
metrics=$(curl -sS --max-time 10 "http://127.0.$SLOT.1:$((PORT_BASE + 80))/metrics") || fail "no /metrics"
grep -q '^dhtnode_network_keyed 1$' <<<"$metrics" || fail "/metrics does not say keyed"
grep -q '^dhtnode_datagrams_refused_total{reason="forged"} ' <<<"$metrics" ||
	fail "/metrics has no refused counter: $(grep refused <<<"$metrics")"

note "a keyed node cannot join an open ring; the open node says why"
open=$(addr_of 8)
node_start "$open" --id-bits 16
wait_joined 30 "$open"
refuse_join 'may be an open ring' --listen "127.0.$SLOT.52:$((PORT_BASE + 52))" --join "$open" \
	--network-key "$keys/ring"
grep -q "127.0.$SLOT.52:[0-9]* sent a sealed datagram: that ring uses a network key; start with --network-key FILE to join it" \
	"$(node_log "$open")" || fail "the open node did not say why it ignored the keyed one"
[ "$(ctl "$open" --json status | jget network.refused.sealed)" -ge 1 ] ||
	fail "the open node did not count the sealed datagrams"

note "every key is still readable through every member"
for n in $(ring_members "$(addr_of 0)"); do
	for i in $(seq 1 12); do
		[ "$(ctl "$n" get "key$i")" = "value$i" ] || fail "key$i is not readable through $n"
	done
done
check_logs
note "ok"
