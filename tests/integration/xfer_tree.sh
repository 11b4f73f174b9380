#!/usr/bin/env bash
# Sharing a tree keeps what makes it a tree (issue 8): an empty directory, a script's executable
# bit and every modification time reach the fetched copy; a symlink and a FIFO, which cannot be
# shared, are named in share's answer (the "skipped" field), in dhtctl's text and in the log.
SLOT=19
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

start_ring 2 1 addr_of
wait_ring "$(addr_of 0)" 60
sharer=$(addr_of 0) fetcher=$(addr_of 1)
src=$PROCS_DIR/tree
mkdir -p "$src/empty" "$src/sub/deep" "$PROCS_DIR/out"
make_file "$src/data.bin" 1
printf '#!/bin/sh\necho hello\n' >"$src/run.sh"
chmod 0755 "$src/run.sh"
chmod 0644 "$src/data.bin"
echo deep >"$src/sub/deep/x.txt"
ln -s data.bin "$src/link"
mkfifo "$src/fifo"
touch -d '2001-02-03 04:05:06.123456789' "$src/run.sh" "$src/sub/deep/x.txt"
touch -d '2002-03-04 05:06:07' "$src/empty" "$src/sub/deep" "$src/sub" "$src"

out=$("$DHTCTL_BIN" --node "$sharer" --json share "$src") || fail "share of the tree failed: $out"
cid=$(jget content_id <<<"$out")
skipped=$(jget 'skipped.*.path' <<<"$out" | sort | tr '\n' ' ')
[ "$skipped" = "tree/fifo tree/link " ] || fail "share's skipped list is '$skipped': $out"
jget 'skipped.*.why' <<<"$out" | grep -qx "a symlink" || fail "no reason given: $out"
[ "$(jget skipped_count <<<"$out")" = 2 ] || fail "skipped_count: $out"
"$DHTCTL_BIN" --node "$sharer" share "$src" | grep -q "left out tree/fifo: a FIFO" ||
	fail "dhtctl share does not print what it left out"
grep -q "left out tree/link: a symlink" "$(node_log "$sharer")" ||
	fail "the sharer's log does not name the symlink"

"$DHTCTL_BIN" --node "$fetcher" --json fetch "$cid" -o "$PROCS_DIR/out" >"$PROCS_DIR/fetch.json" ||
	fail "the fetch failed: $(tail -n 1 "$PROCS_DIR/fetch.json")"
got=$PROCS_DIR/out/tree
same_file "$src/data.bin" "$got/data.bin"
same_file "$src/run.sh" "$got/run.sh"
same_file "$src/sub/deep/x.txt" "$got/sub/deep/x.txt"
[ -d "$got/empty" ] || fail "the empty directory was not recreated"
[ -x "$got/run.sh" ] || fail "run.sh lost its executable bit: $(stat -c %A "$got/run.sh")"
[ ! -x "$got/data.bin" ] || fail "data.bin became executable"
[ ! -e "$got/link" ] && [ ! -e "$got/fifo" ] || fail "the fetched copy holds what was left out"
for p in run.sh sub/deep/x.txt data.bin empty sub/deep sub .; do
	[ "$(stat -c %y "$src/$p")" = "$(stat -c %y "$got/$p")" ] ||
		fail "$p: time $(stat -c %y "$got/$p"), not $(stat -c %y "$src/$p")"
done
umask_x=$(( $(umask) & 8#022 ))
[ $(( 8#$(stat -c %a "$got/run.sh") & umask_x )) = 0 ] ||
	fail "run.sh ignores the umask: $(stat -c %a "$got/run.sh")"
note "the fetched tree has its empty directory, run.sh $(stat -c %A "$got/run.sh"), and times"
check_logs
note "ok"
