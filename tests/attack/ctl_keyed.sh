#!/usr/bin/env bash
# Issue 11: remote control of a private ring. A keyed node with --control-any serves a client
# that is not its user through the network-key handshake (dhtctl --network-key) and the control
# secret inside it: two factors. Without the key, that client is told "this ring uses a network
# key" in plain JSON and closed; with another key, the node closes without a word; with the key
# but without the secret, refused as before. The node's own user still talks plain and needs no
# key. An open node tells a keyed client it has none. "Another machine" is another user here
# (nobody), whom the node cannot trust by its socket's owner either. Needs root (another user).
SLOT=9
. "$(dirname "$0")/../integration/common.sh"

[ "$(id -u)" = 0 ] || { echo "skipped: needs root to run dhtctl as another user"; exit 77; }
A=$(addr_of 0) B=$(addr_of 1)
"$DHTCTL_BIN" keygen "$PROCS_DIR/a.key" >/dev/null || fail "keygen failed"
"$DHTCTL_BIN" keygen "$PROCS_DIR/other.key" >/dev/null || fail "keygen failed"
secret="$PROCS_DIR/control.secret"
node_start "$A" --network-key "$PROCS_DIR/a.key" --control-any --control-secret "$secret"
node_start "$B"
wait_joined 30 "$A"
wait_joined 30 "$B"

# Copies for nobody: a key file must belong to its reader and be private to it.
chmod 711 "$PROCS_DIR"
for f in a.key other.key control.secret; do
	cp "$PROCS_DIR/$f" "$PROCS_DIR/nobody.$f" && chown nobody "$PROCS_DIR/nobody.$f"
	chmod 600 "$PROCS_DIR/nobody.$f"
done
nb() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$DHTCTL_BIN" --timeout 5 "$@"; }
key=$PROCS_DIR/nobody.a.key sec=$PROCS_DIR/nobody.control.secret

# The node's own user, plain, no key: served as before; with the key too.
"$DHTCTL_BIN" --node "$A" put local-key plain >/dev/null || fail "local plain control refused"
[ "$("$DHTCTL_BIN" --node "$A" --network-key "$PROCS_DIR/a.key" get local-key)" = plain ] ||
	fail "local keyed control refused"
note "the node's user is served plain and keyed"

# Key and secret: served, status and put/get.
nb --node "$A" --network-key "$key" --secret "$sec" put keyed-key good >/dev/null ||
	fail "a client with the key and the secret was refused"
[ "$(nb --node "$A" --network-key "$key" --secret "$sec" get keyed-key)" = good ] ||
	fail "keyed get"
nb --node "$A" --network-key "$key" --secret "$sec" --json status | jget id >/dev/null ||
	fail "keyed status"
[ "$(DHTNODE_NETWORK_KEY=$key DHTNODE_SECRET=$sec nb --node "$A" get keyed-key)" = good ] ||
	fail "\$DHTNODE_NETWORK_KEY is not used"
note "another user with the key and the secret is served (status, put, get)"

# refused WHAT PATTERN EXIT ARGS...: nobody's dhtctl ARGS exits EXIT and says PATTERN.
refused()
{
	local what=$1 pattern=$2 want=$3 rc=0 out
	shift 3
	out=$(nb "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "$what: exit $rc, $out"
	grep -q -- "$pattern" <<<"$out" || fail "$what: unclear: $out"
	note "$what: $(tail -n 1 <<<"$out")"
}
refused "no key" "this ring uses a network key: dhtctl --network-key FILE" 4 \
	--node "$A" --secret "$sec" put keyed-key evil
refused "another key" "during the network-key handshake: it uses another network key" 4 \
	--node "$A" --network-key "$PROCS_DIR/nobody.other.key" --secret "$sec" put keyed-key evil
refused "the key without the secret" "this node belongs to user" 4 \
	--node "$A" --network-key "$key" put keyed-key evil
refused "a key for an open node" "the node has no network key" 4 \
	--node "$B" --network-key "$key" status
# The refusal in plain JSON, to a raw client that is not the node's user.
raw=$(setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c 'exec 3<>"/dev/tcp/$0/$1"
	printf "{\"cmd\":\"status\"}\n" >&3; cat <&3' "${A%:*}" "${A##*:}")
[ "$(jget code <<<"$raw")" = denied ] || fail "a plain raw client: $raw"
[ "$("$DHTCTL_BIN" --node "$A" get keyed-key)" = good ] || fail "keyed-key was changed"

for n in "$A" "$B"; do node_alive "$n" || fail "node $n died"; done
check_logs
note "ok"
