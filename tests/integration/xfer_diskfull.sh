#!/usr/bin/env bash
# A full disk is a clear error on that transfer, never a crash: a download that cannot fit is
# refused at once (naming the space needed and free), and one whose disk fills up under it
# fails with "No space left on device" naming the partial file, while the node keeps serving.
# Needs a small filesystem of its own: a 3 MiB tmpfs, which only root may mount; skipped
# otherwise.
SLOT=16
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

# Outside PROCS_DIR, and unmounted only once the nodes (which hold files in it) are gone.
small=$(mktemp -d "${TMPDIR:-/tmp}/dhtsmall.XXXXXX")
if ! mount -t tmpfs -o size=3m tmpfs "$small" 2>/dev/null; then
	rmdir "$small"
	note "SKIP: cannot mount a small tmpfs here (needs root)"
	exit 0
fi
trap 'rc=$?; (exit $rc); procs_cleanup; umount "$small"; rmdir "$small"' EXIT

node_args() { [ "$1" = 0 ] && echo "--up-rate=256KiB"; true; }
start_ring 2 1 addr_of
wait_ring "$(addr_of 0)" 60
seed=$(addr_of 0) leech=$(addr_of 1)
make_file "$PROCS_DIR/big.bin" 8
make_file "$PROCS_DIR/mid.bin" 2
big=$(share_cid "$seed" "$PROCS_DIR/big.bin")
mid=$(share_cid "$seed" "$PROCS_DIR/mid.bin")

rc=0
"$DHTCTL_BIN" --node "$leech" fetch "$big" -o "$small" >/dev/null 2>"$PROCS_DIR/err" || rc=$?
[ "$rc" = 4 ] && grep -q "not enough space in $small: 8388608 bytes needed" "$PROCS_DIR/err" ||
	fail "an 8 MiB fetch into 3 MiB: exit $rc, $(cat "$PROCS_DIR/err")"
note "refused at once: $(cat "$PROCS_DIR/err")"

"$DHTCTL_BIN" --node "$leech" fetch "$mid" -o "$small" --no-wait >/dev/null || fail "no start"
started() { [ "$(xfer_field "$leech" "$mid" bytes_done)" -gt 0 ] 2>/dev/null; }
wait_until 30 "the first chunk" started || fail "the download did not start"
dd if=/dev/zero of="$small/filler" bs=64k 2>/dev/null || true
failed() { xfer_state_is "$leech" "$mid" failed; }
wait_until 30 "the download to fail" failed || fail "the download did not fail on a full disk"
err=$(xfer_field "$leech" "$mid" error)
grep -q "writing $small/.mid.bin.part: No space left on device" <<<"$err" || fail "unclear: $err"
note "failed: $err"
node_alive "$leech" || fail "the node died"
[ "$(xfer_field "$leech" "$big" state)" = failed ] || fail "the list lost the first transfer"
check_logs
note "ok"
