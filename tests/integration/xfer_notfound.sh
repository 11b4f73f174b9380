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
[ "$(xfer_field "$a" "$cid" state)" = failed ] || fail "list does not show the failed fetch"

note "dhtctl's file commands: usage errors exit 2, --help on each"
for args in "fetch nothex" "fetch $cid --find-timeout soon" "share" "stop" "watch 12" \
	"share /x --chunk-size 1000" "list extra"; do
	rc=0
	# shellcheck disable=SC2086 # the words are the arguments
	"$DHTCTL_BIN" --node "$a" $args >/dev/null 2>"$PROCS_DIR/err.txt" || rc=$?
	[ "$rc" = 2 ] || fail "dhtctl $args exited $rc, not 2: $(cat "$PROCS_DIR/err.txt")"
done
for cmd in share fetch list stop watch; do
	"$DHTCTL_BIN" "$cmd" --help | grep -q "usage: dhtctl .*$cmd" || fail "dhtctl $cmd --help"
done
check_logs
note "ok"
