#!/usr/bin/env bash
# Issue 8: what Ctrl-C and `stop` do to a foreground fetch. Ctrl-C stops the transfer in the
# node (the data so far stays, a later fetch resumes), says so, and exits 5; with --detach it
# leaves the transfer running and exits 0. A `dhtctl stop` from elsewhere ends a followed fetch
# or a watch with exit 5 too.
SLOT=25
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

node_args() { [ "$1" = 0 ] && echo "--up-rate=256KiB"; true; }
start_ring 2 1 addr_of
wait_ring "$(addr_of 0)" 60
seed=$(addr_of 0) leech=$(addr_of 1)
make_file "$PROCS_DIR/src.bin" 16
cid=$(share_cid "$seed" "$PROCS_DIR/src.bin")
mkdir -p "$PROCS_DIR/out"
err="$PROCS_DIR/err"

# bg_fetch ARGS...: a foreground fetch (as a user runs it) in the background; sets BG.
bg_fetch()
{
	"$DHTCTL_BIN" --node "$leech" fetch "$cid" -o "$PROCS_DIR/out" "$@" >/dev/null 2>"$err" &
	BG=$!
}

# exit_of PID SECONDS: wait for dhtctl PID to exit; set RC to its status (124 if it did not,
# and then kill it).
exit_of()
{
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -9 "$1" 2>/dev/null && RC=124
	RC=0
	wait "$1" 2>/dev/null || RC=$?
	[ "$RC" = 137 ] && RC=124
	return 0
}

moving() { [ "$(xfer_field "$leech" "$cid" bytes_done)" -gt 0 ] 2>/dev/null; }
state() { xfer_field "$leech" "$cid" state; }

note "Ctrl-C on a foreground fetch stops the transfer and exits 5"
bg_fetch
wait_until 60 "the download to start" moving || fail "the download did not start"
kill -INT "$BG"
exit_of "$BG" 10; rc=$RC
[ "$rc" = 5 ] || fail "dhtctl fetch exited $rc after Ctrl-C, not 5; stderr: $(cat "$err")"
grep -q 'stopped' "$err" || fail "dhtctl did not say that it stopped the fetch: $(cat "$err")"
[ "$(state)" = stopped ] || fail "the transfer is $(state) after Ctrl-C, not stopped"

note "with --detach, Ctrl-C leaves the transfer running and exits 0"
bg_fetch --detach
wait_until 20 "the fetch to resume" eval '[ "$(state)" = downloading ]' ||
	fail "the fetch did not resume: $(state)"
kill -INT "$BG"
exit_of "$BG" 10; rc=$RC
[ "$rc" = 0 ] || fail "dhtctl fetch --detach exited $rc after Ctrl-C, not 0: $(cat "$err")"
grep -q 'detached' "$err" || fail "dhtctl did not say that it detached: $(cat "$err")"
sleep 1
[ "$(state)" = downloading ] || fail "the transfer is $(state) after a detach, not downloading"

note "dhtctl stop ends a followed fetch and a watch with exit 5"
bg_fetch
fetch_pid=$BG
"$DHTCTL_BIN" --node "$leech" watch "$cid" >/dev/null 2>&1 &
watch_pid=$!
sleep 1
"$DHTCTL_BIN" --node "$leech" stop "$cid" >/dev/null || fail "stop failed"
exit_of "$fetch_pid" 10; rc=$RC
[ "$rc" = 5 ] || fail "a followed fetch exited $rc when stopped, not 5"
exit_of "$watch_pid" 10; rc=$RC
[ "$rc" = 5 ] || fail "a watch exited $rc when the transfer was stopped, not 5"
check_logs
note "ok"
