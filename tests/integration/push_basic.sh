#!/usr/bin/env bash
# dhtctl push (issue 13): a ring of 5, pushed to from node 0. Nodes 1 and 2 take pushes signed
# by node 0's key and end with verified copies; node 3 runs without --accept-push and node 4
# lists another key: both refuse, say why in the table, and write nothing at all (their data
# directories and push directories are unchanged, byte for byte). A second push of the same
# content is a no-op for those that hold it ("had_it").
SLOT=46
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

admin=$(addr_of 0)
node_start "$admin"
wait_joined 30 "$admin"
key=$("$DHTCTL_BIN" --node "$admin" --json status | jget public_key) || key=""
[ "${#key}" = 64 ] || fail "status shows no public key: '$key'"
other=$(printf '%064d' 7) # a well-formed key nobody holds

# Flags that do not fit together are refused before anything starts.
if "$DHTNODE_BIN" --listen "$(nobody_addr)" --accept-push "$PROCS_DIR" >/dev/null 2>&1; then
	fail "--accept-push without --push-key was accepted"
fi

for i in 1 2 3 4; do
	mkdir -p "$PROCS_DIR/in$i"
done
node_args()
{
	case $1 in
	1 | 2) echo "--accept-push=$PROCS_DIR/in$1" && echo "--push-key=$key" ;;&
	2) echo "--down-rate=2MiB" ;; # so that a push lasts a few seconds
	4) echo "--accept-push=$PROCS_DIR/in4" && echo "--push-key=$other" ;;
	esac
	true
}
for i in 1 2 3 4; do
	mapfile -t own < <(node_args "$i")
	node_start "$(addr_of "$i")" --join "$admin" "${own[@]}"
done
wait_joined 60 "$(addr_of 1)" "$(addr_of 2)" "$(addr_of 3)" "$(addr_of 4)"
wait_ring "$admin" 60

# What the refusing nodes hold before the push: every path and size.
snapshot()
{
	local name=${1//[:\[\]]/_}
	find "$PROCS_DIR/data/$name" "$PROCS_DIR/in$2" -printf '%p %s\n' | sort
}
before3=$(snapshot "$(addr_of 3)" 3)
before4=$(snapshot "$(addr_of 4)" 4)

make_file "$PROCS_DIR/lab.img" 4
"$DHTCTL_BIN" --node "$admin" --json push "$PROCS_DIR/lab.img" >"$PROCS_DIR/push1.json" \
	2>"$PROCS_DIR/push1.err" || fail "push failed: $(cat "$PROCS_DIR/push1.err")"
last=$(tail -n 1 "$PROCS_DIR/push1.json")
note "push: $(jget verified <<<"$last") verified, $(jget refused <<<"$last") refused in $(jget seconds <<<"$last") s"
grep -q '"progress"' "$PROCS_DIR/push1.json" || fail "the push printed no progress lines"
[ "$(jget verified <<<"$last")" = 3 ] || fail "expected 3 verified copies (source, 1, 2): $last"
[ "$(jget refused <<<"$last")" = 2 ] || fail "expected 2 refusals (3, 4): $last"
[ "$(jget 'members.*.addr' <<<"$last" | wc -l)" = 5 ] || fail "the table does not list 5 members: $last"

# member_field JSON ADDR FIELD: FIELD of ADDR's row in the table.
member_field()
{
	jget 'members.*' <<<"$1" | grep -F "\"$2\"" | jget "$3"
}
for i in 1 2; do
	[ "$(member_field "$last" "$(addr_of "$i")" state)" = verified ] ||
		fail "node $i is not verified: $last"
	same_file "$PROCS_DIR/lab.img" "$PROCS_DIR/in$i/lab.img"
	xfer_state_is "$(addr_of "$i")" "$(jget content_id <<<"$last")" seeding ||
		fail "node $i does not seed its pushed copy"
done
[ "$(member_field "$last" "$(addr_of 3)" state)" = refused ] || fail "node 3 did not refuse: $last"
[ "$(member_field "$last" "$(addr_of 3)" reason.code)" = not_accepting ] ||
	fail "node 3 refused for another reason: $last"
[ "$(member_field "$last" "$(addr_of 4)" reason.code)" = unknown_key ] ||
	fail "node 4 refused for another reason: $last"
[ "$(member_field "$last" "$admin" state)" = source ] || fail "the pusher is not the source: $last"

[ "$(snapshot "$(addr_of 3)" 3)" = "$before3" ] || fail "node 3 (no --accept-push) wrote something"
[ "$(snapshot "$(addr_of 4)" 4)" = "$before4" ] || fail "node 4 (wrong key) wrote something"

# Again, as a person reads it: nothing to do for those that hold it.
"$DHTCTL_BIN" --node "$admin" push "$PROCS_DIR/lab.img" >"$PROCS_DIR/push2.txt" \
	2>"$PROCS_DIR/push2.err" || fail "second push failed: $(cat "$PROCS_DIR/push2.err")"
cat "$PROCS_DIR/push2.txt"
for i in 1 2; do
	grep -E "^$(addr_of "$i") +had_it" "$PROCS_DIR/push2.txt" >/dev/null ||
		fail "node $i was not a no-op on the second push"
done
grep -E "^$(addr_of 3) +refused .*--accept-push" "$PROCS_DIR/push2.txt" >/dev/null ||
	fail "the table does not say why node 3 refused"

# A client that goes away in the middle of a push (node 2 needs 4 s for 8 MiB): the node carries
# on; then a node that leaves in the middle of a push; every node still exits cleanly (under
# ASan: nothing leaked or used after free on the way).
make_file "$PROCS_DIR/big.img" 8
"$DHTCTL_BIN" --node "$admin" push "$PROCS_DIR/big.img" >/dev/null 2>&1 &
ctl=$!
sleep 1
kill "$ctl" 2>/dev/null || true
wait "$ctl" 2>/dev/null || true
node_joined "$admin" || fail "the pushing node did not survive its client leaving"
make_file "$PROCS_DIR/big2.img" 8
"$DHTCTL_BIN" --node "$admin" push "$PROCS_DIR/big2.img" >/dev/null 2>&1 &
ctl=$!
sleep 1
node_stop "$admin" TERM || fail "the pushing node did not exit cleanly in the middle of a push"
wait "$ctl" 2>/dev/null || true
for a in $(printf '%s\n' "${NODES[@]}"); do
	node_stop "$a" TERM || fail "$a did not exit cleanly after the pushes"
done
check_logs
note "ok"
