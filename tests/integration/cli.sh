#!/usr/bin/env bash
# (g) dhtctl's exit codes and messages: 0 success, 1 key not found, 2 usage error, 3 nobody
# listening; --json errors are one JSON object; --help works on every command.
SLOT=7
. "$(dirname "$0")/common.sh"

a=$(addr_of 0)
node_start "$a"
wait_joined 30 "$a"
out="$PROCS_DIR/out"
err="$PROCS_DIR/err"

# expect CODE PATTERN ARGS...: run dhtctl ARGS, want exit CODE and PATTERN (grep -E) in stderr;
# PATTERN "quiet" wants nothing on stderr, "any" takes whatever.
expect()
{
	local code=$1 pattern=$2 rc=0
	shift 2
	"$DHTCTL_BIN" "$@" >"$out" 2>"$err" || rc=$?
	[ "$rc" = "$code" ] || fail "dhtctl $* exited $rc, not $code; stderr: $(cat "$err")"
	case "$pattern" in
	quiet) [ ! -s "$err" ] || fail "dhtctl $* should be quiet on stderr: $(cat "$err")" ;;
	any) ;;
	*) grep -qE -- "$pattern" "$err" || fail "dhtctl $* said '$(cat "$err")', expected /$pattern/" ;;
	esac
}

note "0: success, including a value that starts with a dash, and \$DHTNODE"
expect 0 quiet --node "$a" put -- dashing "-v --json"
DHTNODE=$a expect 0 quiet get dashing
[ "$(cat "$out")" = "-v --json" ] || fail "the value read back was '$(cat "$out")'"
expect 0 quiet --node "$a" lookup dashing
grep -q "127.0.$SLOT.1" "$out" || fail "lookup did not show the owner"
expect 0 quiet --node "$a" status
expect 0 quiet --node "$a" --json get dashing
[ "$(jget value <"$out")" = "-v --json" ] || fail "get --json gave $(cat "$out")"

note "1: not found"
expect 1 'never-stored|not found|no value' --node "$a" get never-stored
expect 1 any --node "$a" --json get never-stored
[ "$(jget code <"$out")" = not_found ] || fail "get --json of a missing key printed $(cat "$out")"

note "2: usage errors"
expect 2 'a command is needed' --node "$a"
expect 2 "unknown command 'fetchall'" --node "$a" fetchall
expect 2 'missing arguments.*usage: dhtctl put' --node "$a" put onlykey
expect 2 'too many arguments' --node "$a" get a b
expect 2 '--id takes 1 to 40 hex digits' --node "$a" get --id nothex
expect 2 "unknown option '--frob'" --node "$a" get --frob x
expect 2 '--ttl takes a whole number' --node "$a" put k v --ttl soon
expect 2 'at most 1000' --node "$a" put big "$(head -c 1001 /dev/zero | tr '\0' v)"
expect 2 'not HOST:PORT' --node localhost get k
expect 2 '--timeout takes seconds' --node "$a" --timeout never get k
expect 2 any --json --node "$a" put onlykey
[ "$(jget code <"$out")" = usage ] || fail "a usage error under --json printed $(cat "$out")"

note "3: nobody listening"
nobody=$(nobody_addr)
expect 3 "cannot reach dhtnode at $nobody: connection refused .* dhtnode --listen $nobody" \
	--node "$nobody" get k
expect 3 'cannot reach' --node "$nobody" --json ring
[ "$(jget ok <"$out")" = false ] || fail "unreachable under --json printed $(cat "$out")"

note "--help on every command"
for cmd in put get lookup announce peers ring status; do
	expect 0 quiet "$cmd" --help
	grep -q "usage: dhtctl .*$cmd" "$out" || fail "dhtctl $cmd --help printed $(cat "$out")"
done
expect 0 quiet --help
grep -q 'exit codes' "$out" || fail "dhtctl --help does not explain the exit codes"
check_logs
note "ok"
