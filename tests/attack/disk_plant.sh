#!/usr/bin/env bash
# Files on disk (issue 10), the fetcher's side: what someone else planted in a shared, writable
# output directory cannot steer a fetch's writes. First the honest case: a file and a tree are
# fetched, and under the node's umask 077 nothing comes out readable by others (run.sh keeps its
# x bit, as 0700). Then, with a root-only file (0600) and a directory elsewhere as targets:
# a symlink planted as the download's hidden partial name (.NAME.part) for a file and for a
# tree, a symlinked directory planted inside a real partial tree, and the same link met by a
# fetch answered from content the node holds (a local copy). Each such fetch fails or leaves
# the link alone, and the targets are untouched. Last, a hard link to the root-only file planted
# as the partial name: not written through either.
SLOT=44
umask 077
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"

start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
sharer=$(addr_of 0) honest=$(addr_of 1) victim=$(addr_of 2)

# make_tree DIR: a tree with a script, a nested file and an empty directory.
make_tree()
{
	mkdir -p "$1/sub/deep" "$1/empty"
	make_file "$1/sub/deep/x.bin" 1
	printf '#!/bin/sh\necho hello\n' >"$1/run.sh"
	chmod 0700 "$1/run.sh"
}

# fetch_into ADDR CID OUT: fetch, and print dhtctl's exit status (the fetch may fail).
fetch_into()
{
	local rc=0
	mkdir -p "$3"
	timeout 60 "$DHTCTL_BIN" --node "$1" fetch "$2" -o "$3" --find-timeout 6 \
		>/dev/null 2>>"$PROCS_DIR/fetch_errors.txt" || rc=$?
	echo "$rc"
}

mode_is()
{
	local m
	m=$(stat -c %a "$1")
	[ "$m" = "$2" ] || fail "$1 has mode $m, not $2 (the node's umask is 077)"
}

make_file "$PROCS_DIR/file.bin" 1
make_tree "$PROCS_DIR/tree"
make_tree "$PROCS_DIR/other/tree" # another tree of the same name, for a fresh fetch
cid_file=$(share_cid "$sharer" "$PROCS_DIR/file.bin")
cid_tree=$(share_cid "$sharer" "$PROCS_DIR/tree")
cid_tree3=$(share_cid "$sharer" "$PROCS_DIR/other/tree")

note "honest: a file and a tree are fetched, private under umask 077"
[ "$(fetch_into "$honest" "$cid_file" "$PROCS_DIR/out0")" = 0 ] || fail "the honest fetch failed"
[ "$(fetch_into "$honest" "$cid_tree" "$PROCS_DIR/out0")" = 0 ] ||
	fail "the honest tree fetch failed"
same_file "$PROCS_DIR/file.bin" "$PROCS_DIR/out0/file.bin"
same_file "$PROCS_DIR/tree/sub/deep/x.bin" "$PROCS_DIR/out0/tree/sub/deep/x.bin"
mode_is "$PROCS_DIR/out0/file.bin" 600
mode_is "$PROCS_DIR/out0/tree/run.sh" 700
mode_is "$PROCS_DIR/out0/tree/sub/deep/x.bin" 600
mode_is "$PROCS_DIR/out0/tree/sub" 700
mode_is "$PROCS_DIR/out0/tree/empty" 700

# The targets: a root-only file and a directory, outside every output directory.
mkdir -p "$PROCS_DIR/secret/dir"
printf 'root only: never to be overwritten\n' >"$PROCS_DIR/secret/key"
chmod 0600 "$PROCS_DIR/secret/key"
cp -p "$PROCS_DIR/secret/key" "$PROCS_DIR/key.copy"
untouched()
{
	cmp -s "$PROCS_DIR/secret/key" "$PROCS_DIR/key.copy" ||
		fail "$1: the root-only file was overwritten"
	mode_is "$PROCS_DIR/secret/key" 600
	[ -z "$(ls -A "$PROCS_DIR/secret/dir")" ] ||
		fail "$1: files appeared in the planted link's target: $(ls -AR "$PROCS_DIR/secret/dir")"
}

note "a symlink planted as .file.bin.part"
mkdir -p "$PROCS_DIR/out1"
ln -s "$PROCS_DIR/secret/key" "$PROCS_DIR/out1/.file.bin.part"
rc=$(fetch_into "$victim" "$cid_file" "$PROCS_DIR/out1")
untouched "planted .file.bin.part"
[ ! -L "$PROCS_DIR/out1/file.bin" ] || fail "the download's name is the planted link"
[ "$rc" != 0 ] || same_file "$PROCS_DIR/file.bin" "$PROCS_DIR/out1/file.bin"
note "the fetch exited $rc"

note "a symlink planted as .tree.part"
mkdir -p "$PROCS_DIR/out2"
ln -s "$PROCS_DIR/secret/dir" "$PROCS_DIR/out2/.tree.part"
rc=$(fetch_into "$victim" "$cid_tree" "$PROCS_DIR/out2")
untouched "planted .tree.part"
note "the fetch exited $rc"

note "a symlinked directory planted inside a real .tree.part"
mkdir -p "$PROCS_DIR/out3/.tree.part"
ln -s "$PROCS_DIR/secret/dir" "$PROCS_DIR/out3/.tree.part/sub"
rc=$(fetch_into "$victim" "$cid_tree3" "$PROCS_DIR/out3")
untouched "planted .tree.part/sub"
note "the fetch exited $rc"

note "a symlink planted as .file.bin.part, met by a local copy of held content"
mkdir -p "$PROCS_DIR/out4"
ln -s "$PROCS_DIR/secret/key" "$PROCS_DIR/out4/.file.bin.part"
rc=$(fetch_into "$honest" "$cid_file" "$PROCS_DIR/out4")
untouched "planted .file.bin.part before a local copy"
note "the fetch exited $rc"
note "a hard link to the root-only file planted as .file5.bin.part"
make_file "$PROCS_DIR/file5.bin" 1
cid_file5=$(share_cid "$sharer" "$PROCS_DIR/file5.bin")
mkdir -p "$PROCS_DIR/out5"
ln "$PROCS_DIR/secret/key" "$PROCS_DIR/out5/.file5.bin.part"
rc=$(fetch_into "$victim" "$cid_file5" "$PROCS_DIR/out5")
untouched "planted hard link"
note "the fetch exited $rc"
check_logs
note "ok"
