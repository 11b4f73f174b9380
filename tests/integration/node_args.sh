#!/usr/bin/env bash
# (h) dhtnode refuses bad arguments, a port already in use and a --join target that does not
# answer: each with a non-zero exit, in bounded time, and a message on stderr.
SLOT=8
. "$(dirname "$0")/common.sh"

a=$(addr_of 0)
err="$PROCS_DIR/err"

# refuse SECONDS PATTERN ARGS...: dhtnode ARGS must exit non-zero within SECONDS, saying PATTERN.
refuse()
{
	local secs=$1 pattern=$2 rc=0
	shift 2
	mkdir -p "$PROCS_DIR/data/refused"
	timeout -s KILL "$secs" "$DHTNODE_BIN" "$@" </dev/null >/dev/null 2>"$err" || rc=$?
	[ "$rc" != 0 ] || fail "dhtnode $* should have refused to run"
	[ "$rc" != 137 ] || fail "dhtnode $* was still running after ${secs}s"
	grep -qiE -- "$pattern" "$err" || fail "dhtnode $* said '$(cat "$err")', expected /$pattern/"
	note "dhtnode $* -> exit $rc: $(grep -iE -- "$pattern" "$err" | head -1)"
}

d=(--data-dir "$PROCS_DIR/data/refused")
refuse 10 'frobnicate|unknown|unrecognized' --listen "$a" "${d[@]}" --frobnicate
refuse 10 'listen|address|port' --listen not-an-address "${d[@]}"
refuse 10 'listen|port' --listen 127.0.0.1:99999 "${d[@]}"
refuse 10 'id-bits|bits' --listen "$a" --id-bits 7 "${d[@]}"
refuse 10 'id' --listen "$a" --id nothex "${d[@]}"
refuse 10 'only in a private ring' --listen "$a" --id 2a "${d[@]}"

note "network key files"
keys="$PROCS_DIR/keys"
mkdir -p "$keys"
"$DHTCTL_BIN" keygen "$keys/k" >/dev/null || fail "dhtctl keygen failed"
[ "$(stat -c %a "$keys/k")" = 600 ] || fail "the key file is not mode 0600"
[ "$(wc -c <"$keys/k")" = 65 ] || fail "the key file is not 64 hex digits and a newline"
cp "$keys/k" "$keys/before"
"$DHTCTL_BIN" keygen "$keys/k" 2>/dev/null && fail "dhtctl keygen overwrote a key file"
cmp -s "$keys/k" "$keys/before" || fail "a refused keygen changed the key file"
refuse 10 'does not exist.*keygen' --listen "$a" --network-key "$keys/none" "${d[@]}"
cp "$keys/k" "$keys/shared" && chmod 640 "$keys/shared"
refuse 10 'chmod 600' --listen "$a" --network-key "$keys/shared" "${d[@]}"
head -c 40 "$keys/k" >"$keys/short" && chmod 600 "$keys/short"
refuse 10 'not 64 hex digits' --listen "$a" --network-key "$keys/short" "${d[@]}"
ln -s "$keys/k" "$keys/link"
refuse 10 'symbolic link' --listen "$a" --network-key "$keys/link" "${d[@]}"
refuse 10 'join|address|port' --listen "$a" --join "127.0.0.1:" "${d[@]}"

note "a port in use"
node_start "$a"
wait_joined 30 "$a"
refuse 10 'in use|address already' --listen "$a" "${d[@]}"
node_alive "$a" || fail "the first node died when a second one tried its port"

note "a join target where nothing listens, and one that is stopped (SIGSTOP: packets vanish)"
refuse 90 "$(nobody_addr)|join|answer" --listen "$(addr_of 1)" --join "$(nobody_addr)" "${d[@]}"
kill -STOP "${NODE_PID[$a]}"
refuse 90 "$a|join|answer" --listen "$(addr_of 1)" --join "$a" "${d[@]}"
kill -CONT "${NODE_PID[$a]}"

note "--help and --version exit 0"
"$DHTNODE_BIN" --help >/dev/null || fail "dhtnode --help failed"
"$DHTNODE_BIN" --version >/dev/null || fail "dhtnode --version failed"
check_logs
note "ok"
