#!/usr/bin/env bash
# Issue 8: dhtctl measures text in terminal columns. `list` cuts a UTF-8 name on a character
# boundary (with an ellipsis) and keeps the columns aligned; the progress bar fits the
# terminal's width, so that in a 50-column pane no redraw wraps onto a new line.
SLOT=26
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"
export LC_ALL=C.UTF-8 # bash's ${#s} then counts characters, not bytes

node_args() { [ "$1" = 0 ] && echo "--up-rate=1MiB"; true; }
start_ring 2 1 addr_of
wait_ring "$(addr_of 0)" 60
seed=$(addr_of 0) leech=$(addr_of 1)

note "list: long UTF-8 names are cut on a character and the columns stay aligned"
long=ééééééééééééééééééééééééééééééé.bin
cjk=日本語のファイル名がとても長い場合.bin
for name in "$long" "$cjk"; do
	head -c 20000 /dev/urandom >"$PROCS_DIR/$name"
	share_cid "$seed" "$PROCS_DIR/$name" >/dev/null
done
list=$("$DHTCTL_BIN" --node "$seed" list) || fail "list failed"
iconv -f UTF-8 -t UTF-8 <<<"$list" >/dev/null || fail "list printed invalid UTF-8: $list"
header=$(head -1 <<<"$list")
head_prefix=${header%%  role *}
row=$(grep -F 'éééé' <<<"$list") || fail "no row for $long in: $list"
row_prefix=${row%%  seed *}
[ "${#row_prefix}" = "${#head_prefix}" ] ||
	fail "the role column starts at ${#row_prefix}, not ${#head_prefix}:"$'\n'"$list"
grep -qF '…' <<<"$row" || fail "a cut name has no ellipsis: $row"

note "the progress bar fits a 50-column terminal"
if ! command -v script >/dev/null; then
	note "skipped: no script(1) to give dhtctl a terminal"
else
	make_file "$PROCS_DIR/big.bin" 3
	cid=$(share_cid "$seed" "$PROCS_DIR/big.bin")
	mkdir -p "$PROCS_DIR/out"
	cmd="stty cols 50; '$DHTCTL_BIN' --node '$leech' fetch $cid -o '$PROCS_DIR/out'"
	timeout 60 script -qfec "$cmd" /dev/null </dev/null >"$PROCS_DIR/tty.out" 2>&1 ||
		fail "the fetch on a terminal failed: $(cat -v "$PROCS_DIR/tty.out")"
	grep -q '\[#' "$PROCS_DIR/tty.out" || fail "no progress bar was drawn: $(cat -v "$PROCS_DIR/tty.out")"
	# Every redraw (between carriage returns) must fit in 49 columns, escapes removed; the
	# last line ("saved PATH ...") is printed once and may wrap.
	widest=$(sed 's/\x1b\[K//g' "$PROCS_DIR/tty.out" | tr '\r' '\n' | grep -E '^(\[|looking|fetching)' |
		awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
	[ "$widest" -le 49 ] || fail "a progress line is $widest columns wide in a 50-column terminal"
	same_file "$PROCS_DIR/big.bin" "$PROCS_DIR/out/big.bin"
fi
check_logs
note "ok"
