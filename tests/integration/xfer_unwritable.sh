#!/usr/bin/env bash
# (e) Disk errors are clear errors (exit 4, code io, naming the place), never a crash: an
# output directory that is not writable, one that does not exist, and a path to share that
# does not exist. Root writes anywhere whatever the mode, so as root the directory is made
# immutable instead (chattr +i).
SLOT=15
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

a=$(addr_of 0)
node_start "$a"
wait_joined 30 "$a"
cid=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
ro="$PROCS_DIR/readonly"
mkdir -p "$ro"
if [ "$(id -u)" = 0 ]; then
	chattr +i "$ro" || fail "cannot make $ro immutable (chattr +i) to test as root"
	trap 'rc=$?; chattr -i "$ro" 2>/dev/null; (exit $rc); procs_cleanup' EXIT
else
	chmod 555 "$ro"
fi

# expect_io WHAT PATTERN ARGS...: dhtctl ARGS exits 4 with PATTERN in its message.
expect_io()
{
	local what=$1 pattern=$2 rc=0
	shift 2
	"$DHTCTL_BIN" --node "$a" "$@" >"$PROCS_DIR/out.txt" 2>"$PROCS_DIR/err.txt" || rc=$?
	[ "$rc" = 4 ] || fail "$what: exit $rc, not 4: $(cat "$PROCS_DIR/err.txt")"
	grep -qE -- "$pattern" "$PROCS_DIR/err.txt" || fail "$what: unclear message: $(cat "$PROCS_DIR/err.txt")"
	note "$what: $(cat "$PROCS_DIR/err.txt")"
}
expect_io "unwritable output" "cannot write to the output directory $ro" fetch "$cid" -o "$ro"
out=$("$DHTCTL_BIN" --node "$a" --json fetch "$cid" -o "$ro" 2>/dev/null) || true
[ "$(jget code <<<"$(tail -n 1 <<<"$out")")" = io ] || fail "--json: code is not io: $out"
mkdir -p "$PROCS_DIR/gone" && out="$PROCS_DIR/gone"
# dhtctl resolves -o itself; the node must also refuse a directory that vanished meanwhile.
printf '{"cmd":"fetch","content_id":"%s","out":"%s/missing"}\n' "$cid" "$out" >"$PROCS_DIR/req"
resp=$(bash -c 'exec 3<>"/dev/tcp/$0/$1"; cat "$2" >&3; cat <&3' "${a%:*}" "${a##*:}" "$PROCS_DIR/req")
[ "$(jget code <<<"$resp")" = io ] && grep -q "$out/missing" <<<"$resp" ||
	fail "a missing output directory: $resp"
"$DHTCTL_BIN" --node "$a" --json share /nonexistent/thing >"$PROCS_DIR/out.txt" 2>/dev/null || true
[ "$(jget code <"$PROCS_DIR/out.txt")" = io ] || fail "sharing a missing path: $(cat "$PROCS_DIR/out.txt")"
grep -q "/nonexistent/thing" "$PROCS_DIR/out.txt" || fail "the message does not name the path"
node_alive "$a" || fail "the node died"
check_logs
note "ok"
