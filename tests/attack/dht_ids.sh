#!/usr/bin/env bash
# (issue 11) A node that claims an id it cannot prove. The attacker proves its address (it
# answers token challenges), sends JOIN and then NOTIFY every 200 ms as the id just before the
# victim's, and answers every PROVE with a good signature by its own key, whose hash is not that
# id. The victim never takes it as predecessor (checked all along), refuses it, counts it
# (ids_refused) and says so in its log; an honest node still joins. The attacker is first shown
# to be taken when its id is its key's (a key ground to land between the victim's predecessor and
# the victim, as any node may).
SLOT=53
. "$(dirname "$0")/../integration/common.sh"
: "${dhtattack_BIN:?dhtattack_BIN must name the attacker program}"

node_args() { printf '%s\n' --id-bits 16; }
start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
victim=$(addr_of 1)
ATT_IP=127.0.$SLOT.200
ATT="$ATT_IP:$((PORT_BASE + 90))"
att() { "$dhtattack_BIN" --bits 16 --from "$ATT" --to "$victim" "$@"; }

. "$(dirname "$0")/victim.bash" # not *.sh: each *.sh here is a test

pred_of() { ctl "$victim" --json status | jget predecessor.id; }

note "honest: an attacker whose id is its key's, between $PRED and $VICTIM_ID, is taken"
out=$PROCS_DIR/honest.txt
att --grind "$PRED:$VICTIM_ID" claim 3 >"$out" &
apid=$!
wait_until 5 "the attacker's id" grep -q '^id ' "$out" || fail "the attacker printed no id"
HONEST_ID=$(sed -n 's/^id //p' "$out")
wait_until 3 "the victim to take the honest attacker" [ "$(pred_of)" = "$HONEST_ID" ] ||
	fail "an attacker that proves its id was not taken: $(neighbours)"
wait "$apid"
grep -q '^join NEIGH, proofs asked [1-9]' "$out" || fail "the honest JOIN was not answered: $(cat "$out")"
wait_until 20 "the victim's old neighbours again" neighbours_ok ||
	fail "the ring did not come back once the attacker went: $(neighbours)"
refused0=$(ctl "$victim" --json status | jget stats.ids_refused)
[ "$refused0" = 0 ] || fail "the victim refused an id before the attack ($refused0)"

note "impostor: JOIN and NOTIFY as $JUST_BEFORE for 4 s, proving with another key"
out=$PROCS_DIR/impostor.txt
att --id "$JUST_BEFORE" claim 4 >"$out" &
apid=$!
for _ in $(seq 1 16); do
	neighbours_ok || fail "the impostor moved the victim's neighbours: $(neighbours)"
	sleep 0.25
done
wait "$apid"
grep -q '^join ERROR 3, proofs asked [1-9]' "$out" ||
	fail "the impostor's JOIN was not refused as unproven: $(cat "$out")"
neighbours_ok || fail "the impostor moved the victim's neighbours: $(neighbours)"
refused=$(ctl "$victim" --json status | jget stats.ids_refused)
[ "$refused" -ge 1 ] || fail "the victim counted no refused id"
grep -q "refused node $JUST_BEFORE at $ATT: it cannot prove that id" "$(node_log "$victim")" ||
	fail "the victim's log does not say whom it refused"

pk=$(ctl "$victim" --json status | jget predecessor.public_key)
[[ "$pk" =~ ^[0-9a-f]{64}$ ]] || fail "status shows no key for the victim's predecessor: '$pk'"

note "an honest node still joins, through another member"
node_start "$(addr_of 3)" --join "$(addr_of 0)" --id-bits 16
wait_joined 30 "$(addr_of 3)"
wait_ring "$(addr_of 0)" 60
check_logs
note "ok"
