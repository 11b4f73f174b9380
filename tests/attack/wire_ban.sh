#!/usr/bin/env bash
# Issue 10: bans were keyed by the peer id a peer chooses itself, and names in a manifest took
# any byte. (a) A peer claiming an honest leecher's id at its seed got the leecher refused as
# a duplicate; now the same id from another host is another peer. (b) A liar banned for corrupt
# data came back under a new id (and port) and was served again; now a ban holds for its host.
# (c) A manifest name with a newline, an escape sequence and an invalid byte reached the log,
# the disk and dhtctl list; now such a manifest is refused and its sender banned. Each attacker
# is first seen to be served when it behaves (an id of its own, good data, a good name).
SLOT=40
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"
: "${wireattack_BIN:?wireattack_BIN must name the attacker}"

node_args()
{
	case "$1" in
	0) echo "--up-rate=1MiB" ;;
	1) echo "--debug-corrupt-uploads" ;;
	2) echo "--log-level=debug" ;;
	esac
	true
}
start_ring 3 2 addr_of
seed=$(addr_of 0) liar=$(addr_of 1) leech=$(addr_of 2) me=127.0.$SLOT.200
bits=$("$DHTCTL_BIN" --node "$seed" --json status | jget bits)
BG=()
on_exit()
{
	local rc=$?
	[ "${#BG[@]}" -eq 0 ] || kill "${BG[@]}" 2>/dev/null || true
	[ "$rc" -eq 0 ] || PROCS_FAILED=1
	procs_cleanup
}
trap on_exit EXIT
mkdir -p "$PROCS_DIR/out"

# (c) names. The leecher looks for the forged manifest's id; the attacker dials it and serves it.
# serve_name NAME: sets CID to the forged manifest's id.
serve_name()
{
	local cid
	cid=$("$wireattack_BIN" --mode cid --name "$1")
	"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$PROCS_DIR/out" >/dev/null 2>&1 &
	BG+=($!)
	wait_until 10 "the leecher to look for $cid" xfer_listed "$cid"
	"$wireattack_BIN" --mode serve --to "$leech" --from "$me" --bits "$bits" --name "$1" \
		--seconds 3
	CID=$cid
}
xfer_listed()
{
	[ -n "$(xfer_field "$leech" "$1" state)" ]
}
serve_name ok-name.bin >"$PROCS_DIR/serve.out"
out=$(cat "$PROCS_DIR/serve.out")
[ "$(xfer_field "$leech" "$CID" name)" = ok-name.bin ] ||
	fail "a good manifest was not taken ($out): $("$DHTCTL_BIN" --node "$leech" list)"
note "(c) honest: a manifest named ok-name.bin is taken ($out)"
evil=$'evil\nFAKE LOG LINE\e[31mred\xff'
serve_name "$evil" >"$PROCS_DIR/serve.out"
out=$(cat "$PROCS_DIR/serve.out")
note "(c) attack: a manifest named with a newline, ESC[31m and a stray byte: $out"
"$DHTCTL_BIN" --node "$leech" --json list >/dev/null || fail "dhtctl list broke"
! grep -q '^FAKE LOG LINE' "$(node_log "$leech")" || fail "the name started a log line"
! grep -q $'\e' "$(node_log "$leech")" || fail "an escape byte reached the log"
[ -z "$(ls "$PROCS_DIR/out" | grep -v '^ok-name.bin' || true)" ] ||
	fail "the name reached the disk: $(ls "$PROCS_DIR/out")"
case $out in *"open 0") ;; *) fail "the sender of the forged name was not ended: $out" ;; esac

# (a) an id claimed by another host. Honest: an id of its own is answered.
make_file "$PROCS_DIR/small.bin" 2
cid=$(share_cid "$seed" "$PROCS_DIR/small.bin")
out=$("$wireattack_BIN" --mode idle --to "$seed" --from "$me" --content "$cid" --bits "$bits" \
	--seconds 1)
[ "$out" = "answered 1 open 1" ] || fail "the attacker with its own id was not answered: $out"
lid=$("$DHTCTL_BIN" --node "$leech" --json status | jget id)
"$wireattack_BIN" --mode idle --to "$seed" --from "$me" --content "$cid" --bits "$bits" \
	--peer-id "${lid:0:40}" --seconds 30 >"$PROCS_DIR/claim.out" &
BG+=($!)
sleep 1
start=$SECONDS
"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$PROCS_DIR/out" >"$PROCS_DIR/fetch.json" ||
	fail "the fetch failed: $(tail -n 1 "$PROCS_DIR/fetch.json")"
took=$((SECONDS - start))
same_file "$PROCS_DIR/small.bin" "$PROCS_DIR/out/small.bin"
note "(a) with its id claimed at the seed by another host, the leecher fetched in ${took}s"
[ "$took" -le 10 ] || fail "the claimed id kept the leecher out for ${took}s"

# (b) a banned liar back under a new id and port, from the same host.
make_file "$PROCS_DIR/big.bin" 20
cid=$(share_cid "$seed" "$PROCS_DIR/big.bin")
[ "$(share_cid "$liar" "$PROCS_DIR/big.bin")" = "$cid" ] || fail "the liar's content id differs"
"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$PROCS_DIR/out" >"$PROCS_DIR/fetch2.json" &
fetch=$!
BG+=("$fetch")
banned()
{
	[ "$(xfer_field "$leech" "$cid" bans)" -ge 1 ] 2>/dev/null
}
wait_until 30 "the leecher to ban the liar" banned || fail "the liar was never banned"
note "(b) the liar was served, sent corrupt data and was banned"
node_stop "$liar" TERM
liar2="127.0.$SLOT.2:$((PORT_BASE + 50))"
node_start "$liar2" --join "$seed" --debug-corrupt-uploads
wait_joined 30 "$liar2"
[ "$(share_cid "$liar2" "$PROCS_DIR/big.bin")" = "$cid" ] || fail "the new liar's id differs"
wait "$fetch" || fail "the fetch failed: $(tail -n 1 "$PROCS_DIR/fetch2.json")"
same_file "$PROCS_DIR/big.bin" "$PROCS_DIR/out/big.bin"
bans=$(grep -F "\"$cid\"" <<<"$("$DHTCTL_BIN" --node "$leech" --json list | jget 'transfers.*')" |
	jget bans)
refused=$(grep -c "refused: banned" "$(node_log "$leech")" || true)
note "(b) the liar came back under a new id: bans $bans, refused at the handshake $refused time(s)"
[ "$bans" = 1 ] || fail "the liar was served again under its new id ($bans bans)"
[ "$refused" -ge 1 ] || fail "the leecher never met the returning liar"
check_logs
note "ok"
