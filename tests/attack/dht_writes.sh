#!/usr/bin/env bash
# (issue 10) Hostile writers: a process that never joined, at its own loopback address, tries to
# overwrite another writer's value (since issue 11 values are signed: it can only add its own
# beside it, tests/attack/dht_values.sh), delete or stretch values with REPLICATE, store past the
# 7-day TTL cap, wipe a content id's peer list with an empty PUT, put a third party's address in
# a peer list, and write without proving its address. It is first shown to be served when it
# writes its own keys honestly.
SLOT=31
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
owner_of() { ctl "$(addr_of 0)" --json lookup "$1" | jget owner.addr; }
ATT_IP=127.0.$SLOT.200
ATT="$ATT_IP:$((PORT_BASE + 90))"
# att TARGET COMMAND...: the attacker, from its own address, at TARGET.
att() { "$dhtattack_BIN" --from "$ATT" --to "$1" "${@:2}"; }

note "honest: the attacker's own key is stored and read back"
out=$(att "$(owner_of own-key)" put own-key mine)
[ "$out" = "STORED ok" ] || fail "an honest put was not served: $out"
[ "$(ctl "$(addr_of 1)" get own-key)" = mine ] || fail "the honest put is not readable"

note "a value written by a member is not replaced by another writer"
W=$(ctl "$(addr_of 1)" --json put victim original | jget writer) || fail "put victim failed"
owner=$(owner_of victim)
out=$(att "$owner" put victim forged)
[ "$out" = "STORED ok" ] || fail "the attacker's own value was answered '$out'"
out=$(att "$owner" --claim "$W" put victim forged)
[[ "$out" == "STORED the value's signature"* ]] || fail "an overwrite was answered '$out'"
out=$(att "$owner" --claim "$W" put victim "")
[[ "$out" == "STORED the value's signature"* ]] || fail "an empty overwrite was answered '$out'"
[ "$(ctl "$(addr_of 2)" get --writer "$W" victim)" = original ] || fail "the value changed"

note "REPLICATE from a non-member neither deletes (ttl 1 ms) nor stores (49 days)"
att "$owner" replicate victim forged 1 >/dev/null
att "$owner" replicate stretched forever 4233600000 >/dev/null
for n in "${NODES[@]}"; do att "$n" replicate victim forged 1 >/dev/null; done
sleep 0.5
[ "$(ctl "$(addr_of 2)" get --writer "$W" victim)" = original ] ||
	fail "REPLICATE changed another's value"
rc=0
ctl "$(addr_of 2)" get stretched >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a REPLICATE from a non-member was stored"

note "the TTL cap holds for a put asking 49 days"
out=$(att "$(owner_of long-lived)" put long-lived v 4233600)
[ "$out" = "STORED ok" ] || fail "put long-lived: $out"
ttl=$(att "$(owner_of long-lived)" get long-lived | sed -n 's/^VALUE v ttl \([0-9]*\) .*/\1/p')
[ -n "$ttl" ] && [ "$ttl" -le 604800 ] || fail "a 49-day TTL was kept: ttl '$ttl'"

note "an empty PUT leaves a content id's announcements alone"
ctl "$(addr_of 1)" announce content 127.0.0.1:7000 >/dev/null || fail "announce failed"
peers_before=$(ctl "$(addr_of 0)" peers content)
out=$(att "$(owner_of content)" put content "")
[ "$(ctl "$(addr_of 0)" peers content)" = "$peers_before" ] ||
	fail "an empty put ($out) changed the peers: $(ctl "$(addr_of 0)" peers content)"

note "an ANNOUNCE records the sender's own IP, not the address it names"
out=$(att "$(owner_of content)" announce content 127.0.0.1:22)
[ "$out" = "STORED ok" ] || fail "an honest announce was not served: $out"
peers=$(ctl "$(addr_of 0)" peers content)
grep -qx "$ATT_IP:22" <<<"$peers" || fail "the announcer's own address is missing: $peers"
! grep -qx "127.0.0.1:22" <<<"$peers" || fail "a third party's address was announced: $peers"

note "a writer that does not prove its address is not served"
out=$("$dhtattack_BIN" --no-token --from "$ATT" --to "$(owner_of unproven)" put unproven x || true)
[[ "$out" != STORED* ]] || fail "a put without a token was stored: $out"
rc=0
ctl "$(addr_of 0)" get unproven >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a put without a token was stored"
check_logs
note "ok"
