#!/usr/bin/env bash
# Issue 8, items 4 and 5: a stopped or failed transfer shows rates of 0, and rates are whole
# numbers; such a transfer can be forgotten (gone from list and from the data directory, so a
# restart does not bring it back; its files stay), a running one cannot; every command that
# takes a content id takes a unique prefix of at least 4 digits (watch, stop, forget, fetch),
# refuses a shorter one, and says when no transfer has it.
SLOT=22
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

a=$(addr_of 0)
node_start "$a"
wait_joined 30 "$a"
P=$PROCS_DIR
data="$P/data/${a//[:\[\]]/_}"

# expect RC PATTERN ARGS...: dhtctl ARGS exits RC with PATTERN in its message.
expect()
{
	local want=$1 pattern=$2 rc=0
	shift 2
	"$DHTCTL_BIN" --node "$a" "$@" >"$P/out.txt" 2>"$P/err.txt" || rc=$?
	[ "$rc" = "$want" ] || fail "dhtctl $*: exit $rc, not $want: $(cat "$P/out.txt" "$P/err.txt")"
	grep -qE -- "$pattern" "$P/out.txt" "$P/err.txt" ||
		fail "dhtctl $*: no '$pattern' in: $(cat "$P/out.txt" "$P/err.txt")"
}

make_file "$P/src.bin" 1
cid=$(share_cid "$a" "$P/src.bin")
short=${cid:0:8}
expect 0 "\"path\"" --json watch "$short"
expect 0 "$cid" --json fetch "$short" -o "$P"
expect 2 "at least the first 4" watch "${cid:0:3}"
other=$( [ "${cid:0:4}" = ffff ] && echo eeee || echo ffff)
expect 1 "no transfer on this node has a content id starting with $other" watch "$other"
expect 2 "stop it first" forget "$short"
expect 0 "stopped $cid" stop "$short"

# A failed fetch (nobody holds it).
gone=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$P/out"
"$DHTCTL_BIN" --node "$a" fetch "$gone" -o "$P/out" --find-timeout 1 >/dev/null 2>&1 &&
	fail "a fetch of content nobody holds succeeded"
sleep 1 # the rates of the idle transfers decay for a while: they must read 0 all the same
list=$("$DHTCTL_BIN" --node "$a" --json list)
for c in "$cid" "$gone"; do
	for f in rate_down rate_up; do
		v=$(jget 'transfers.*' <<<"$list" | grep -F "\"$c\"" | jget "$f")
		[ "$v" = 0 ] || fail "$(xfer_field "$a" "$c" state) transfer ${c:0:16}: $f is '$v', not 0"
	done
done
[ "$(xfer_state_is "$a" "$gone" failed && echo y)" = y ] || fail "the fetch did not fail"

expect 0 "forgot $cid" forget "$short"
expect 0 "forgot $gone" forget "${gone:0:6}"
[ "$("$DHTCTL_BIN" --node "$a" --json list | jget 'transfers.#')" = 0 ] || fail "list still shows them"
[ ! -e "$data/transfers/$cid" ] || fail "the state of the forgotten share is still kept"
[ -f "$P/src.bin" ] || fail "forget deleted the shared file"
expect 1 "no transfer" forget "$short"
node_stop "$a" TERM || fail "the node did not stop cleanly"
node_start "$a"
wait_joined 30 "$a"
[ "$("$DHTCTL_BIN" --node "$a" --json list | jget 'transfers.#')" = 0 ] ||
	fail "a restart brought a forgotten transfer back"
check_logs
note "ok"
