# Sourced by the attack tests on a victim's neighbourhood (dht_ring.sh, dht_ids.sh) once a ring
# of 16-bit ids runs and $victim names the victim's address: it reads the victim's id and its
# neighbours at the start (VICTIM_ID, PRED, SUCC, and JUST_BEFORE, the id an impostor claims)
# and checks them later.
st=$("$DHTCTL_BIN" --node "$victim" --json status) || fail "no status from the victim"
VICTIM_ID=$(jget id <<<"$st")
PRED=$(jget predecessor.id <<<"$st")
SUCC=$(jget successors.0.id <<<"$st")
JUST_BEFORE=$(printf '%04x' $(((0x$VICTIM_ID - 1) & 0xffff)))
[ "$PRED" != "$JUST_BEFORE" ] || fail "the victim's predecessor already sits just before it"

# neighbours_ok: the victim's predecessor and first successor are as they were at the start.
neighbours_ok()
{
	local st
	st=$("$DHTCTL_BIN" --node "$victim" --json status) || return 1
	[ "$(jget predecessor.id <<<"$st")" = "$PRED" ] && [ "$(jget successors.0.id <<<"$st")" = "$SUCC" ]
}

# neighbours: the victim's predecessor and first successor, for messages.
neighbours()
{
	local st
	st=$("$DHTCTL_BIN" --node "$victim" --json status)
	echo "predecessor $(jget predecessor.id <<<"$st"), successor $(jget successors.0.id <<<"$st")"
}
