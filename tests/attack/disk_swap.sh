#!/usr/bin/env bash
# Files on disk (issue 10), the sharer's side: a file of a shared tree swapped for a symlink to
# a root-only file (0600) is never served. First the honest case: a tree is shared and fetched.
# Then the attack that used to work: the file is swapped while the share is being hashed (a
# large sparse file hashed first keeps that window open), after the attacker gave it the
# target's size and time, so that the hashing read the target through the link and recorded
# it as the shared file. Now the link is never followed: the share fails (or leaves the entry
# out), and whatever a fetcher gets holds no byte of the target. Then a swap after sharing:
# the fetch fails cleanly (the sharer withdrew the file) and again holds none of it.
SLOT=45
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"

start_ring 2 1 addr_of
wait_ring "$(addr_of 0)" 60
sharer=$(addr_of 0) fetcher=$(addr_of 1)
marker=ROOT-ONLY-SECRET

# The target: a root-only file of 1 MiB that names itself on every line.
mkdir -p "$PROCS_DIR/secret"
head -c 1048576 < <(yes "$marker") >"$PROCS_DIR/secret/key"
chmod 0600 "$PROCS_DIR/secret/key"

# leaked DIR: whether any file under DIR holds the target's bytes.
leaked()
{
	grep -rqs "$marker" "$1"
}

# swap FILE: replace FILE (atomically) with a link to the target.
swap()
{
	ln -s "$PROCS_DIR/secret/key" "$1.new"
	mv -T "$1.new" "$1"
}

note "honest: a shared tree is fetched"
mkdir -p "$PROCS_DIR/t0" "$PROCS_DIR/out0"
make_file "$PROCS_DIR/t0/a.bin" 1
cid=$(share_cid "$sharer" "$PROCS_DIR/t0")
"$DHTCTL_BIN" --node "$fetcher" fetch "$cid" -o "$PROCS_DIR/out0" --find-timeout 6 >/dev/null ||
	fail "the honest fetch failed"
same_file "$PROCS_DIR/t0/a.bin" "$PROCS_DIR/out0/t0/a.bin"

note "a file swapped for a link while the share is hashed"
mkdir -p "$PROCS_DIR/t1" "$PROCS_DIR/out1"
truncate -s 1G "$PROCS_DIR/t1/0big.bin" # hashed first (path order), CPU only
head -c 1048576 /dev/urandom >"$PROCS_DIR/t1/a.bin"
touch -r "$PROCS_DIR/secret/key" "$PROCS_DIR/t1/a.bin"
"$DHTCTL_BIN" --node "$sharer" --timeout 60 --json share "$PROCS_DIR/t1" \
	>"$PROCS_DIR/share1.json" 2>&1 &
share_pid=$!
echo "$share_pid" >>"$PROCS_DIR/pids"
sleep 0.2
swap "$PROCS_DIR/t1/a.bin"
rc=0
wait "$share_pid" || rc=$?
if [ "$rc" = 0 ] && ! grep -q '"t1/a.bin"' "$PROCS_DIR/share1.json"; then
	# The share was made with a.bin in it: a fetch must not get the target's bytes.
	cid=$(jget content_id <"$PROCS_DIR/share1.json")
	timeout 30 "$DHTCTL_BIN" --node "$fetcher" fetch "$cid" -o "$PROCS_DIR/out1" \
		--find-timeout 6 >/dev/null 2>&1 || true
	leaked "$PROCS_DIR/out1" && fail "the fetcher got bytes of the root-only file"
	note "the share was made; its fetch got none of the target"
else
	note "the share refused: $(tail -c 300 "$PROCS_DIR/share1.json")"
fi
leaked "$PROCS_DIR/out1" && fail "the root-only file's bytes reached the fetcher"
rm -f "$PROCS_DIR/t1/0big.bin"

note "a file swapped for a link after the share was made"
mkdir -p "$PROCS_DIR/t2" "$PROCS_DIR/out2"
head -c 1048576 /dev/urandom >"$PROCS_DIR/t2/a.bin"
make_file "$PROCS_DIR/t2/b.bin" 1
touch -r "$PROCS_DIR/secret/key" "$PROCS_DIR/t2/a.bin"
cid=$(share_cid "$sharer" "$PROCS_DIR/t2")
swap "$PROCS_DIR/t2/a.bin"
rc=0
timeout 60 "$DHTCTL_BIN" --node "$fetcher" fetch "$cid" -o "$PROCS_DIR/out2" --find-timeout 6 \
	>/dev/null 2>"$PROCS_DIR/err2.txt" || rc=$?
[ "$rc" != 0 ] || fail "the fetch of a share whose file became a link succeeded"
leaked "$PROCS_DIR/out2" && fail "the fetcher got bytes of the root-only file"
note "the fetch failed: $(cat "$PROCS_DIR/err2.txt")"
check_logs
note "ok"
