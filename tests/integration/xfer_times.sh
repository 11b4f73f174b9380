#!/usr/bin/env bash
# Issue 8, items 2, 3 and 6: the time a transfer reports is the time it ran. A finished
# download watched seconds later reports how long it took, not how long ago it started; a
# download stopped and resumed counts only its running time; the count survives a restart of
# the node (kept in the state file), which then says it seeds the finished download rather
# than that it resumes it; log lines count "1 file", not "1 files".
SLOT=21
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

seed_and_leecher 1MiB
P=$PROCS_DIR

# below A B: the number A is below the number B.
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
watch_seconds() { "$DHTCTL_BIN" --node "$1" --json watch "$2" | tail -n 1 | jget seconds; }

make_file "$P/small.bin" 1
cid=$(share_cid "$seed" "$P/small.bin")
mkdir -p "$P/out"
"$DHTCTL_BIN" --node "$leech" --json fetch "$cid" -o "$P/out" >/dev/null || fail "fetch failed"
sleep 4
secs=$(watch_seconds "$leech" "$cid")
note "a 1 MiB download watched 4 s after it ended reports $secs s"
below "$secs" 3 || fail "watch reports $secs s for a download that took about 1 s"
active=$(xfer_field "$leech" "$cid" active_s)
[ -n "$active" ] && below "$active" 3 || fail "list reports active_s '$active'"
[ "$(xfer_field "$leech" "$cid" finished_at)" -gt 0 ] 2>/dev/null ||
	fail "list has no finish time: $(xfer_field "$leech" "$cid" finished_at)"

# Stopped for 5 s half way: the resumed download does not count them.
make_file "$P/big.bin" 6
bcid=$(share_cid "$seed" "$P/big.bin")
t0=$SECONDS
"$DHTCTL_BIN" --node "$leech" fetch "$bcid" -o "$P/out" --no-wait >/dev/null || fail "no fetch"
some() { [ "$(xfer_field "$leech" "$bcid" bytes_done)" -ge 1048576 ] 2>/dev/null; }
wait_until 30 "the download to progress" some || fail "the download did not progress"
"$DHTCTL_BIN" --node "$leech" stop "$bcid" >/dev/null || fail "stop failed"
sleep 5
out=$("$DHTCTL_BIN" --node "$leech" --json fetch "$bcid" -o "$P/out") || fail "resume failed"
wall=$((SECONDS - t0))
secs=$(jget seconds <<<"$(tail -n 1 <<<"$out")")
note "stopped for 5 s: the download reports $secs s of $wall s on the clock"
below "$secs" $((wall - 4)) || fail "the resumed download counted its stopped time: $secs s of $wall s"
same_file "$P/big.bin" "$P/out/big.bin"

# A restart keeps the count, and the log says what the node does with a finished download.
before=$(xfer_field "$leech" "$cid" active_s)
node_stop "$leech" TERM || fail "the leecher did not stop cleanly"
node_start "$leech" --join "$seed"
wait_joined 30 "$leech"
after=$(xfer_field "$leech" "$cid" active_s)
note "active_s before the restart: $before, after: $after"
[ "$after" = "$before" ] || fail "the restart changed the running time from $before to $after"
log=$(node_log "$leech")
grep -q "seeding $cid (complete" "$log" || fail "the restart does not say it seeds $cid: $(tail -5 "$log")"
! grep -q "resuming the download of $cid" "$log" || fail "a finished download is logged as resumed"
grep -q "in 1 file\b" "$(node_log "$seed")" || fail "the seed's log does not say '1 file'"
! grep -qE "\b1 (files|chunks|holders|bytes)\b" "$(node_log "$seed")" "$log" || fail "a log line says '1 files'"
check_logs
note "ok"
