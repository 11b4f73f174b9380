#!/usr/bin/env bash
# Issue 8, item 1: a fetch puts a verified copy where the user asked, or fails with a clear
# error, whatever the node already holds of the content: a finished download in another
# directory or a share (copied, checked), the held copy already there (answered as is), a
# held copy that changed since it was verified (refused, nothing left under the name), a
# download under way or stopped in another directory (refused, saying where), -o naming a
# regular file or nothing (refused); a file and a directory tree.
SLOT=20
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

seed_and_leecher 1MiB
P=$PROCS_DIR

# fetch_ok NODE CID DIR: a followed fetch exits 0 and its last line names DIR's copy.
fetch_ok()
{
	local out
	out=$("$DHTCTL_BIN" --node "$1" --json fetch "$2" -o "$3" 2>"$P/err.txt") ||
		fail "fetch of $2 into $3 on $1 failed: $(cat "$P/err.txt")"
	last=$(tail -n 1 <<<"$out")
	case "$(jget path <<<"$last")" in
	"$3"/*) ;;
	*) fail "fetch into $3 on $1 reported $(jget path <<<"$last")" ;;
	esac
}

# fetch_refused NODE CID DIR RC PATTERN: the fetch exits RC with PATTERN in its message.
fetch_refused()
{
	local rc=0
	"$DHTCTL_BIN" --node "$1" fetch "$2" -o "$3" >"$P/out.txt" 2>"$P/err.txt" || rc=$?
	[ "$rc" = "$4" ] || fail "fetch into $3 on $1: exit $rc, not $4: $(cat "$P/out.txt" "$P/err.txt")"
	grep -qE -- "$5" "$P/err.txt" || fail "fetch into $3: unclear message: $(cat "$P/err.txt")"
	note "refused as it should: $(cat "$P/err.txt")"
}

make_file "$P/src.bin" 1
mkdir -p "$P/tree/sub" && make_file "$P/tree/a.bin" 1 && echo hello >"$P/tree/sub/b.txt"
: >"$P/tree/sub/empty"
cid=$(share_cid "$seed" "$P/src.bin")
tcid=$(share_cid "$seed" "$P/tree")
mkdir -p "$P"/out{1,2,3,4,5,6,7} "$P"/tree{1,2}

fetch_ok "$leech" "$cid" "$P/out1"
same_file "$P/src.bin" "$P/out1/src.bin"
# The defect: the node printed "saved out1/src.bin" and left out2 empty.
fetch_ok "$leech" "$cid" "$P/out2"
same_file "$P/src.bin" "$P/out2/src.bin"
# The held copy where it is asked for: answered as it is.
fetch_ok "$leech" "$cid" "$P/out1"
# A share, fetched on the node that shares it: copied from where it lies.
fetch_ok "$seed" "$cid" "$P/out3"
same_file "$P/src.bin" "$P/out3/src.bin"
# A tree, empty file included.
fetch_ok "$leech" "$tcid" "$P/tree1"
fetch_ok "$leech" "$tcid" "$P/tree2"
diff -r "$P/tree" "$P/tree2/tree" >/dev/null || fail "the copied tree differs from the original"
[ -f "$P/tree2/tree/sub/empty" ] || fail "the empty file was not copied"

# -o naming a regular file, or nothing.
fetch_refused "$leech" "$cid" "$P/out1/src.bin" 4 "not a directory"
fetch_refused "$seed" "$cid" "$P/src.bin" 4 "not a directory"
fetch_refused "$leech" "$cid" "$P/nothing" 4 "nothing"
# The name is taken in the directory asked for.
fetch_refused "$leech" "$cid" "$P/out2" 4 "already exists"
# The held copy changed since it was verified: no copy, nothing under the final name.
printf 'X' | dd of="$P/out1/src.bin" bs=1 seek=300000 conv=notrunc 2>/dev/null
fetch_refused "$leech" "$cid" "$P/out4" 4 "changed since"
[ ! -e "$P/out4/src.bin" ] || fail "a copy that failed its check appeared under its name"
[ -z "$(ls -A "$P/out4")" ] || fail "a failed copy left files behind: $(ls -A "$P/out4")"

# A download under way into out5 (the seed uploads at 1 MiB/s): out6 is refused.
make_file "$P/big.bin" 6
bcid=$(share_cid "$seed" "$P/big.bin")
"$DHTCTL_BIN" --node "$leech" fetch "$bcid" -o "$P/out5" --no-wait >/dev/null ||
	fail "the fetch did not start"
fetch_refused "$leech" "$bcid" "$P/out6" 2 "being downloaded into $P/out5"
started() { [ "$(xfer_field "$leech" "$bcid" bytes_done)" -gt 0 ] 2>/dev/null; }
wait_until 30 "the download to start" started || fail "the download did not start"
"$DHTCTL_BIN" --node "$leech" stop "$bcid" >/dev/null || fail "stop failed"
fetch_refused "$leech" "$bcid" "$P/out6" 2 "partial download .* is in $P/out5"
# Forgotten, it starts afresh where asked.
"$DHTCTL_BIN" --node "$leech" forget "$bcid" >/dev/null || fail "forget failed"
fetch_ok "$leech" "$bcid" "$P/out6"
same_file "$P/big.bin" "$P/out6/big.bin"
node_alive "$leech" && node_alive "$seed" || fail "a node died"
check_logs
note "ok"
