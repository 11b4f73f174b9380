#!/usr/bin/env bash
# (issue 11) Signed values: an attacker at its own loopback address forges a member's value
# (another key's signature, or a spoiled one), replays an older version it captured, and signs
# the value anew with its own key naming the member as writer. Each is refused and counted, and
# the member's value stays, read from every node. A second writer (a user's key file) stores
# under the same key beside it, `get --writer` picks one, compare-and-swap and delete hold.
SLOT=58
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

start_ring 4 2 addr_of
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
owner_of() { ctl "$(addr_of 0)" --json lookup "$1" | jget owner.addr; }
ATT="127.0.$SLOT.200:$((PORT_BASE + 90))"
att() { "$dhtattack_BIN" --from "$ATT" --to "$1" "${@:2}"; }
stat_of() { ctl "$1" --json status | jget "stats.$2"; }
tmp=$PROCS_DIR # removed with the nodes' logs

# every_node_reads KEY WRITER VALUE: WRITER's value under KEY is VALUE through every node.
every_node_reads()
{
	local i v
	for i in 0 1 2 3; do
		v=$(ctl "$(addr_of "$i")" get --writer "$2" "$1") || fail "get $1 via node $i failed"
		[ "$v" = "$3" ] || fail "node $i reads '$v' under $1, not '$3'"
	done
}

note "a member writes v1, the attacker captures it, the member writes v2"
W=$(ctl "$(addr_of 1)" --json put secret v1 | jget writer)
[ ${#W} = 64 ] || fail "put did not name its writer: '$W'"
[ "$W" = "$(ctl "$(addr_of 1)" --json status | jget public_key)" ] ||
	fail "the node's values are not signed with its own key"
owner=$(owner_of secret)
att "$owner" capture secret "$tmp/v1" >/dev/null || fail "the attacker could not read v1"
ctl "$(addr_of 1)" put secret v2 >/dev/null || fail "put v2 failed"
every_node_reads secret "$W" v2
forged0=$(stat_of "$owner" values_forged) stale0=$(stat_of "$owner" values_stale)

note "a forged signature is refused"
out=$(att "$owner" --claim "$W" put secret evil)
[[ "$out" == "STORED the value's signature does not match"* ]] || fail "forged: '$out'"
out=$(att "$owner" --forge put secret evil)
[[ "$out" == "STORED the value's signature does not match"* ]] || fail "spoiled: '$out'"

note "a value re-signed by another key, naming the member as writer, with a higher seq"
out=$(att "$owner" --claim "$W" --seq 18446744073709551000 put secret v2)
[[ "$out" == "STORED the value's signature does not match"* ]] || fail "re-signed: '$out'"
out=$(att "$owner" --claim "$W" delete secret)
[[ "$out" == "STORED the value's signature does not match"* ]] || fail "forged delete: '$out'"

note "a replay of the older version is refused"
out=$(att "$owner" replay secret "$tmp/v1")
[[ "$out" == "STORED the writer's value there has a higher"* ]] || fail "replay: '$out'"
for n in "${NODES[@]}"; do att "$n" replay-push secret "$tmp/v1" >/dev/null; done
sleep 0.5

note "refusals are counted, and v2 is intact everywhere"
forged=$(stat_of "$owner" values_forged) stale=$(stat_of "$owner" values_stale)
[ "$((forged - forged0))" -ge 4 ] || fail "values_forged went from $forged0 to $forged"
[ "$((stale - stale0))" -ge 1 ] || fail "values_stale went from $stale0 to $stale"
ctl "$owner" --json status | jget stats.values_forged >/dev/null || fail "no values_forged"
every_node_reads secret "$W" v2

note "the attacker's own key: a value of its own beside the member's, not in its place"
A=$(att "$owner" pk)
out=$(att "$owner" put secret "attacker's")
[ "$out" = "STORED ok" ] || fail "the attacker's own value: '$out'"
every_node_reads secret "$W" v2
every_node_reads secret "$A" "attacker's"

note "a second writer with a key file; get lists both, --writer selects"
ctl "$(addr_of 2)" writerkey "$tmp/user.key" >"$tmp/user.pk" || fail "writerkey failed"
U=$(cat "$tmp/user.pk")
seed=$(sed -n 's/^ed25519-seed //p' "$tmp/user.key")
[ ${#seed} = 64 ] && [ ${#U} = 64 ] && ! grep -q "$seed" "$tmp/user.pk" ||
	fail "writerkey printed '$U', its file holds '$seed'"
[ "$(stat -c %a "$tmp/user.key")" = 600 ] || fail "the key file is readable by others"
ctl "$(addr_of 2)" put --key-file "$tmp/user.key" secret "user's" >/dev/null ||
	fail "a put signed with a key file failed"
every_node_reads secret "$U" "user's"
lines=$(ctl "$(addr_of 3)" get secret)
[ "$(wc -l <<<"$lines")" = 3 ] || fail "get lists '$lines'"
grep -qx "$U [0-9]* user's" <<<"$lines" || fail "get does not show the user's writer: $lines"
grep -qx "$W [0-9]* v2" <<<"$lines" || fail "get does not show the member's writer: $lines"
n=$(ctl "$(addr_of 0)" --json get secret | jget 'values.*.writer' | wc -l)
[ "$n" = 3 ] || fail "get --json lists $n values"

note "compare-and-swap: a put expecting another seq is refused"
seq=$(ctl "$(addr_of 2)" --json get --writer "$U" secret | jget seq)
rc=0
ctl "$(addr_of 2)" put --key-file "$tmp/user.key" --cas 1 secret x 2>"$tmp/err" || rc=$?
[ "$rc" = 4 ] && grep -q "expected" "$tmp/err" || fail "a bad --cas: exit $rc, $(cat "$tmp/err")"
ctl "$(addr_of 2)" put --key-file "$tmp/user.key" --cas "$seq" secret "user's 2" >/dev/null ||
	fail "a put with the right --cas failed"
every_node_reads secret "$U" "user's 2"

note "delete: the member's value goes, the others stay, and a replay stays refused"
ctl "$(addr_of 1)" delete secret >/dev/null || fail "delete failed"
rc=0
ctl "$(addr_of 0)" get --writer "$W" secret >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the deleted value is still read (exit $rc)"
every_node_reads secret "$U" "user's 2"
out=$(att "$owner" replay secret "$tmp/v1")
[[ "$out" == "STORED the writer's value there has a higher"* ]] || fail "replay after delete: '$out'"

note "an immutable value: stored under the hash of its bytes"
id=$(ctl "$(addr_of 3)" --json put --immutable "fixed text" | jget key_id)
[ "$(ctl "$(addr_of 0)" get --id "$id")" = "fixed text" ] || fail "the immutable value is not read"
check_logs
note "ok"
