#!/usr/bin/env bash
# Issue 10: remote control needs the control secret. --control-any without --control-secret is
# refused at start; the node makes a missing secret file (0600) and refuses one others may read.
# A client on another machine (here: another network namespace, over a veth pair) is refused
# without the secret and with a wrong one, and served with the right one; a node without
# --control-any refuses it even with the secret. Another local user holding the secret is
# served too: whoever proves it controls the node. A web view beyond loopback asks for the token
# derived from the secret. Needs root (namespaces, other users).
SLOT=37
. "$(dirname "$0")/../integration/common.sh"

[ "$(id -u)" = 0 ] || { echo "skipped: needs root for a network namespace"; exit 77; }
ns=dhtit$SLOT host_if=dhtit${SLOT}a ns_if=dhtit${SLOT}b
net=10.237.$SLOT
cleanup_net()
{
	ip link del "$host_if" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
}
trap 'rc=$?; cleanup_net; (exit $rc); procs_cleanup' EXIT
cleanup_net
ip netns add "$ns" || fail "cannot create a network namespace"
ip link add "$host_if" type veth peer name "$ns_if" netns "$ns"
ip addr add "$net.1/24" dev "$host_if" && ip link set "$host_if" up
ip -n "$ns" addr add "$net.2/24" dev "$ns_if" && ip -n "$ns" link set "$ns_if" up
remote() { ip netns exec "$ns" "$DHTCTL_BIN" --timeout 5 "$@"; }

secret="$PROCS_DIR/control.secret"
rc=0
out=$(timeout 5 "$DHTNODE_BIN" --listen "$net.1:$PORT_BASE" --control-any 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q -- "--control-any needs --control-secret FILE" <<<"$out" ||
	fail "--control-any without a secret: exit $rc, $out"
note "refused at start: $out"

a="$net.1:$PORT_BASE"
node_start "$a" --control-any --control-secret "$secret"
wait_joined 30 "$a"
[ "$(stat -c %a "$secret")" = 600 ] || fail "the secret was made with mode $(stat -c %a "$secret")"
grep -qE '^[0-9a-f]{64}$' "$secret" || fail "the secret is not 64 hex digits: $(cat "$secret")"

# The honest client, with the secret, from the other namespace: served.
remote --node "$a" --secret "$secret" put remote-key good >/dev/null ||
	fail "a remote client with the secret was refused"
[ "$(remote --node "$a" --secret "$secret" get remote-key)" = good ] || fail "remote get"
note "a remote client with the secret is served"

# denied_remote WHAT PATTERN ARGS...: remote dhtctl ARGS exits 4, code denied, PATTERN said.
denied_remote()
{
	local what=$1 pattern=$2 rc=0 out
	shift 2
	out=$(remote --json "$@" 2>/dev/null) || rc=$?
	out=$(tail -n 1 <<<"$out")
	[ "$rc" = 4 ] && [ "$(jget code <<<"$out")" = denied ] || fail "$what: exit $rc, $out"
	grep -q -- "$pattern" <<<"$out" || fail "$what: unclear: $out"
	note "$what: $(jget error <<<"$out")"
}
denied_remote "no secret" "must prove the control secret with dhtctl --secret FILE" \
	--node "$a" put remote-key evil
wrong="$PROCS_DIR/wrong.secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$wrong" && echo >>"$wrong"
denied_remote "a wrong secret" "the control secret does not match" \
	--node "$a" --secret "$wrong" put remote-key evil
# A raw request with a proof for no challenge, and a made-up proof after a real challenge.
raw=$(ip netns exec "$ns" bash -c 'exec 3<>"/dev/tcp/$0/$1"
	printf "{\"auth\":\"%064d\"}\n{\"cmd\":\"put\",\"key\":\"remote-key\",\"value\":\"x\"}\n" 0 >&3
	cat <&3' "${a%:*}" "${a##*:}")
[ "$(jget code <<<"$raw")" = denied ] || fail "a proof without a challenge: $raw"
[ "$("$DHTCTL_BIN" --node "$a" get remote-key)" = good ] || fail "remote-key was changed"

# Another local user with a copy of the secret is served; without it, refused.
cp "$secret" "$PROCS_DIR/nobody.secret" && chown nobody "$PROCS_DIR/nobody.secret"
chmod 711 "$PROCS_DIR"
nb() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$DHTCTL_BIN" --node "$a" "$@"; }
[ "$(nb --secret "$PROCS_DIR/nobody.secret" get remote-key)" = good ] ||
	fail "a local user with the secret was refused"
rc=0
nb get remote-key >/dev/null 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "a local user without the secret: exit $rc"
note "a local user is served with the secret only"

# Without --control-any, a remote client is refused even with the secret.
b="$net.1:$((PORT_BASE + 1))"
node_start "$b" --control-secret "$secret"
wait_joined 30 "$b"
denied_remote "no --control-any" "accepted from this machine only" --node "$b" --secret "$secret" status

# The web view beyond loopback: only with the secret, and then only for whoever shows the token
# the node logged (derived from the secret, so the secret itself never travels).
c="$net.1:$((PORT_BASE + 3))" web="$net.1:$((PORT_BASE + 4))"
node_start "$c" --control-secret "$secret" --http "$web"
wait_joined 30 "$c"
token=$(grep -o '?token=[0-9a-f]*' "$(node_log "$c")" | head -n 1 | cut -d= -f2)
[ ${#token} = 64 ] || fail "the node logged no view token: $(grep -i 'web view' "$(node_log "$c")")"
rcurl() { ip netns exec "$ns" curl -sS --max-time 10 "$@"; }
code=$(rcurl -o /dev/null -w '%{http_code}' "http://$web/api/status")
[ "$code" = 401 ] || fail "the remote view without its token answered $code, not 401"
code=$(rcurl -o /dev/null -w '%{http_code}' "http://$web/?token=${token//[0-9]/0}")
[ "$code" = 401 ] || fail "a wrong token answered $code, not 401"
headers=$(rcurl -o /dev/null -D - "http://$web/?token=$token")
grep -q '^HTTP/1.1 303' <<<"$headers" && grep -qi "^Set-Cookie: dhtnode_view=$token" <<<"$headers" ||
	fail "the token was not traded for a cookie: $headers"
[ "$(rcurl -H "Cookie: dhtnode_view=$token" "http://$web/api/status" | jget ok)" = true ] ||
	fail "the cookie did not open the view"
[ "$(rcurl -H "Authorization: Bearer $token" "http://$web/api/status" | jget ok)" = true ] ||
	fail "the bearer token did not open the view"
note "the remote web view asks for its token and takes it as a cookie or a bearer token"

# A secret file that others may read is refused at start.
chmod 644 "$secret"
rc=0
out=$(timeout 5 "$DHTNODE_BIN" --listen "$net.1:$((PORT_BASE + 2))" --data-dir "$PROCS_DIR/data/c" \
	--control-any --control-secret "$secret" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "chmod 600" <<<"$out" || fail "a readable secret: exit $rc, $out"
note "a readable secret is refused"

for n in "$a" "$b" "$c"; do node_alive "$n" || fail "node $n died"; done
check_logs
note "ok"
