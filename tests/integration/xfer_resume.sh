#!/usr/bin/env bash
# (c) A leecher killed with -9 halfway through resumes after a restart: it completes with a
# correct copy, downloads after the restart no more than what it had not verified before the
# kill (plus what was in flight), and never shows the file under its final name before then.
SLOT=13
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

MIB=1048576
node_args() { [ "$1" = 0 ] && echo "--up-rate=1MiB"; true; }
start_ring 2 1 addr_of
wait_ring "$(addr_of 0)" 60
seed=$(addr_of 0) leech=$(addr_of 1)
make_file "$PROCS_DIR/src.bin" 8
total=$((8 * MIB))
cid=$(share_cid "$seed" "$PROCS_DIR/src.bin")
mkdir -p "$PROCS_DIR/out"
"$DHTCTL_BIN" --node "$leech" fetch "$cid" -o "$PROCS_DIR/out" --no-wait >/dev/null ||
	fail "the fetch did not start"

halfway() { [ "$(xfer_field "$leech" "$cid" bytes_done)" -ge $((total * 2 / 5)) ] 2>/dev/null; }
wait_until 60 "the leecher to be 40% done" halfway || fail "the download did not progress"
before=$(xfer_field "$leech" "$cid" bytes_done)
node_stop "$leech" KILL || true
note "killed the leecher with -9 at $before of $total bytes verified"
[ "$before" -lt "$total" ] || fail "the download finished before the kill; make the file larger"
[ ! -e "$PROCS_DIR/out/src.bin" ] || fail "the unfinished file is shown under its final name"
[ -e "$PROCS_DIR/out/.src.bin.part" ] || fail "there is no partial file"
# Rejoining under the same id works once the ring has dropped the dead node.
wait_ring "$seed" 30

node_start "$leech" --join "$seed"
wait_joined 30 "$leech"
done_again() { xfer_state_is "$leech" "$cid" seeding; }
wait_until 60 "the resumed download to complete" done_again || fail "the resumed download did not complete"
same_file "$PROCS_DIR/src.bin" "$PROCS_DIR/out/src.bin"
after=$(xfer_field "$leech" "$cid" downloaded)
allowed=$((total - before + MIB))
note "downloaded $after bytes after the restart; missing at the kill: $((total - before))"
[ "$after" -le "$allowed" ] || fail "re-downloaded verified chunks: $after > $allowed bytes"
[ ! -e "$PROCS_DIR/out/.src.bin.part" ] || fail "the partial file is still there"
check_logs
note "ok"
