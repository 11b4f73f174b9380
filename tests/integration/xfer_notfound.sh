#!/usr/bin/env bash
# (d) Fetching a content id that nobody shares fails with "not found" (exit 1) and a message
# that says so, after the bounded wait the request asked for (--find-timeout 3).
SLOT=14
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

start_ring 2 1 addr_of
wait_ring "$(addr_of 0)" 60
a=$(addr_of 1)
cid=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$PROCS_DIR/out"
t0=$SECONDS
rc=0
"$DHTCTL_BIN" --node "$a" fetch "$cid" -o "$PROCS_DIR/out" --find-timeout 3 \
	>"$PROCS_DIR/out.txt" 2>"$PROCS_DIR/err.txt" || rc=$?
took=$((SECONDS - t0))
[ "$rc" = 1 ] || fail "fetch of an unknown content id exited $rc, not 1: $(cat "$PROCS_DIR/err.txt")"
grep -q "no holder of $cid was found" "$PROCS_DIR/err.txt" ||
	fail "unclear message: $(cat "$PROCS_DIR/err.txt")"
[ "$took" -ge 2 ] && [ "$took" -le 15 ] || fail "the fetch gave up after $took s, not about 3 s"
note "failed after $took s: $(cat "$PROCS_DIR/err.txt")"
rc=0
out=$("$DHTCTL_BIN" --node "$a" --json fetch "$cid" -o "$PROCS_DIR/out" --find-timeout 2) || rc=$?
[ "$rc" = 1 ] && [ "$(jget code <<<"$(tail -n 1 <<<"$out")")" = not_found ] ||
	fail "--json fetch of an unknown id: exit $rc, $out"
[ -z "$(ls -A "$PROCS_DIR/out")" ] || fail "a failed fetch left files: $(ls -A "$PROCS_DIR/out")"
check_logs
note "ok"
