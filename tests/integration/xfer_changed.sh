#!/usr/bin/env bash
# A shared file that changes in place after `share` (issue 8): the sharer notices before it
# serves a chunk of it, withdraws those chunks and says so in list and in its log; a fetcher
# is not left waiting (it fails within its time-out, saying the sharer withdrew the chunk) and
# does not ban the sharer, which did not lie. Then the same with the change made while a fetch
# is under way (the sharer's upload capped so that the change lands mid-transfer), and with a
# change that keeps the file's size, time and inode (found by hashing a chunk before serving
# it, so that again nobody is banned).
SLOT=18
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

node_args()
{
	case "$1" in
	0) echo "--up-rate=512KiB" ;;
	esac
	true
}
start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
sharer=$(addr_of 0) fetcher=$(addr_of 1) late=$(addr_of 2)
mkdir -p "$PROCS_DIR/out1" "$PROCS_DIR/out2"

# poke FILE OFFSET: overwrite 8 bytes of FILE at OFFSET, in place (same size, same inode).
poke()
{
	printf 'CHANGED!' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# fetch_fails ADDR CID OUT LOG: the fetch must fail (exit 1) within its 6 s time-out plus
# slack, saying that the sharer withdrew a chunk.
fetch_fails()
{
	local rc=0 t0=$SECONDS
	"$DHTCTL_BIN" --node "$1" fetch "$2" -o "$3" --find-timeout 6 >/dev/null 2>"$4" || rc=$?
	local took=$((SECONDS - t0))
	[ "$rc" = 1 ] || fail "the fetch from a changed share exited $rc, not 1: $(cat "$4")"
	grep -q "the sharer withdrew it (its file changed)" "$4" ||
		fail "the fetch's message does not say why: $(cat "$4")"
	[ "$took" -le 40 ] || fail "the fetch gave up only after $took s"
	note "the fetch failed after $took s: $(cat "$4")"
}

# not_banned ADDR CID: ADDR banned nobody for CID, and its log says no ban.
not_banned()
{
	local bans
	bans=$(xfer_field "$1" "$2" bans)
	[ "${bans:-0}" = 0 ] || fail "$1 banned $bans peer(s): the sharer did not lie"
	! grep -q "banned peer" "$(node_log "$1")" ||
		fail "$1's log names a ban"
}

make_file "$PROCS_DIR/mod.bin" 2
cid=$(share_cid "$sharer" "$PROCS_DIR/mod.bin")
sleep 0.05
poke "$PROCS_DIR/mod.bin" 1000
fetch_fails "$fetcher" "$cid" "$PROCS_DIR/out1" "$PROCS_DIR/err1.txt"
[ "$(xfer_field "$sharer" "$cid" state)" = changed ] ||
	fail "the sharer's list shows $(xfer_field "$sharer" "$cid" state), not changed"
[ "$(xfer_field "$sharer" "$cid" changed)" = "$PROCS_DIR/mod.bin" ] ||
	fail "the sharer's list does not name the changed file"
grep -q "mod.bin changed since it was shared" "$(node_log "$sharer")" ||
	fail "the sharer's log does not say which file changed"
not_banned "$fetcher" "$cid"
[ -z "$(ls -A "$PROCS_DIR/out1")" ] || fail "the failed fetch left $(ls -A "$PROCS_DIR/out1")"
"$DHTCTL_BIN" --node "$sharer" list | grep -q "changed: $PROCS_DIR/mod.bin" ||
	fail "dhtctl list does not show the changed file"
new=$(share_cid "$sharer" "$PROCS_DIR/mod.bin")
[ "$new" != "$cid" ] && xfer_state_is "$sharer" "$new" seeding && [ -z "$(xfer_field "$sharer" "$cid" state)" ] ||
	fail "sharing the changed file again did not replace the old share with a new content id"

note "a change made while the fetch runs"
make_file "$PROCS_DIR/during.bin" 8
cid=$(share_cid "$sharer" "$PROCS_DIR/during.bin")
rc=0
"$DHTCTL_BIN" --node "$late" fetch "$cid" -o "$PROCS_DIR/out2" --find-timeout 6 \
	>/dev/null 2>"$PROCS_DIR/err2.txt" &
pid=$!
echo "$pid" >>"$PROCS_DIR/pids"
started() { [ "$(xfer_field "$late" "$cid" bytes_done)" -gt 0 ] 2>/dev/null; }
wait_until 30 "the second fetch to start" started || fail "the second fetch did not start"
poke "$PROCS_DIR/during.bin" $((7 * 1048576))
t0=$SECONDS
wait "$pid" || rc=$?
[ "$rc" = 1 ] || fail "the fetch of a share changed under it exited $rc: $(cat "$PROCS_DIR/err2.txt")"
grep -q "the sharer withdrew it (its file changed)" "$PROCS_DIR/err2.txt" ||
	fail "unclear message: $(cat "$PROCS_DIR/err2.txt")"
note "failed $((SECONDS - t0)) s after the change: $(cat "$PROCS_DIR/err2.txt")"
not_banned "$late" "$cid"

note "a change that keeps the file's size, time and inode: found by hashing what is served"
make_file "$PROCS_DIR/kept.bin" 2
cid=$(share_cid "$sharer" "$PROCS_DIR/kept.bin")
stamp=$(stat -c %y "$PROCS_DIR/kept.bin")
poke "$PROCS_DIR/kept.bin" 1048576
touch -d "$stamp" "$PROCS_DIR/kept.bin"
# Keep the sharer's hashing pool busy meanwhile (a sparse file: CPU only, no disk), as a
# node sharing something large would: a check that waits its turn on the pool must still come
# before the chunk is served, not after.
truncate -s 12G "$PROCS_DIR/busy.bin"
"$DHTCTL_BIN" --node "$sharer" --timeout 100 share "$PROCS_DIR/busy.bin" >/dev/null 2>&1 &
echo "$!" >>"$PROCS_DIR/pids"
rc=0
t0=$SECONDS
"$DHTCTL_BIN" --node "$fetcher" fetch "$cid" -o "$PROCS_DIR/out1" --find-timeout 6 \
	>/dev/null 2>"$PROCS_DIR/err3.txt" || rc=$?
# The sharer hashes a chunk before its first block goes out, so it withdraws the changed one
# before serving a byte of it: the fetcher fails clearly and has no cause to ban the sharer.
[ "$rc" = 1 ] && grep -q "the sharer withdrew it (its file changed)" "$PROCS_DIR/err3.txt" ||
	fail "the fetch of a share changed behind its time exited $rc: $(cat "$PROCS_DIR/err3.txt")"
note "failed after $((SECONDS - t0)) s: $(cat "$PROCS_DIR/err3.txt")"
not_banned "$fetcher" "$cid"
# Not one block of the changed chunk went out (the ban above is a race the sharer may win
# even when it serves the corrupt block first; this is not).
# 2 MiB is shared in chunks of 16 KiB (the smallest: it makes at most 2,048 chunks).
up=$(xfer_field "$sharer" "$cid" uploaded)
[ "${up:-0}" -gt 0 ] && [ "$up" -le $((2097152 - 16384)) ] ||
	fail "the sharer uploaded ${up:-no} bytes of 2 MiB: it served the changed chunk"
[ "$(xfer_field "$sharer" "$cid" state)" = changed ] || fail "the sharer did not notice"
grep -q "no longer reads as it was hashed" "$(node_log "$sharer")" ||
	fail "the sharer's log does not say the chunk failed its hash"
check_logs
note "ok"
