#!/usr/bin/env bash
# Issue 11: a private ring's peer wire. An outsider connecting to a keyed node's TCP port
# learns nothing: in the clear it gets only the 6-byte notice "this ring uses a network key"
# (never a HANDSHAKE, a content id, a manifest piece or a block) and the connection closed;
# with the handshake under another key, not one byte. The same probe is first seen to learn
# the content id and a manifest piece from an open node. An open node recognises a keyed
# node's hello and says why it refuses. Nodes: a keyed seed A and, when they can join its ring
# (the DHT's datagrams may be sealed too, then they cannot even do that), an open node C and
# a node D of another key, whose fetches from A fail with the reason in their logs.
SLOT=42
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"
: "${wireattack_BIN:?wireattack_BIN must name the attacker}"

"$DHTCTL_BIN" keygen "$PROCS_DIR/a.key" >/dev/null || fail "keygen failed"
"$DHTCTL_BIN" keygen "$PROCS_DIR/d.key" >/dev/null || fail "keygen failed"
A=$(addr_of 0) B=$(addr_of 1) C=$(addr_of 2) D=$(addr_of 3) me=127.0.$SLOT.200
node_start "$A" --network-key "$PROCS_DIR/a.key" --log-level=debug
node_start "$B" --log-level=debug
wait_joined 30 "$A" "$B"
bits=$("$DHTCTL_BIN" --node "$A" --json status | jget bits)
make_file "$PROCS_DIR/y.bin" 1
make_file "$PROCS_DIR/x.bin" 1
y=$(share_cid "$A" "$PROCS_DIR/y.bin")
x=$(share_cid "$B" "$PROCS_DIR/x.bin")
probe() { "$wireattack_BIN" --mode probe --from "$me" --bits "$bits" --seconds 3 "$@"; }

# Honest outsider of an open ring: it learns the content id (in the HANDSHAKE back) and more.
out=$(probe --to "$B" --content "$x")
got=$(head -1 <<<"$out") hex=$(tail -1 <<<"$out")
[[ $hex == *"$x"* ]] || fail "the probe did not learn the content id from an open node: $got"
note "open node B, probe in the clear: $got, the content id among them"

# The same against the keyed node: the notice, closed, nothing else.
out=$(probe --to "$A" --content "$y")
[ "$out" = $'received 6 closed 1\n6468744b0104' ] ||
	fail "keyed node A answered a probe in the clear with more than the notice: $out"
grep -q "it has no network key (this ring uses a network key)" "$(node_log "$A")" ||
	fail "A's log does not say why it closed the probe"
note "keyed node A, probe in the clear: $(head -1 <<<"$out"): the notice 'dhtK' v1 'need key' only"

# With the handshake under another key: not a byte.
out=$(probe --to "$A" --content "$y" --hello)
[ "$out" = $'received 0 closed 1\n' ] || [ "$out" = 'received 0 closed 1' ] ||
	fail "keyed node A answered a hello under another key: $out"
note "keyed node A, hello under another key: $(head -1 <<<"$out")"

# An open node given a hello: the notice back, and its log says why.
out=$(probe --to "$B" --content "$x" --hello)
[ "$out" = $'received 6 closed 1\n6468744b0103' ] || fail "open node B answered a hello with: $out"
grep -q "this ring uses a network key, and this node runs without one" "$(node_log "$B")" ||
	fail "B's log does not say why it closed the keyed peer"
note "open node B, hello: $(head -1 <<<"$out"): the notice 'no key'"

# Nodes in A's ring that cannot talk to it (if they can join at all).
joined_within() { wait_until 15 "$1 to join" node_joined "$1" 2>/dev/null; }
node_start "$C" --join "$A" --log-level=debug
node_start "$D" --join "$A" --network-key "$PROCS_DIR/d.key" --log-level=debug
mkdir -p "$PROCS_DIR/out"
if joined_within "$C"; then
	"$DHTCTL_BIN" --node "$C" fetch "$y" -o "$PROCS_DIR/out" --no-wait >/dev/null ||
		fail "C's fetch did not start"
	told() { grep -q "it uses a network key and this node none (this ring uses a network key)" "$(node_log "$C")"; }
	wait_until 30 "C to be refused by A" told || fail "C's log does not say why it cannot fetch"
	make_file "$PROCS_DIR/z.bin" 1
	z=$(share_cid "$C" "$PROCS_DIR/z.bin")
	"$DHTCTL_BIN" --node "$A" fetch "$z" -o "$PROCS_DIR/out" --no-wait >/dev/null ||
		fail "A's fetch did not start"
	said() { grep -q "it has no network key (this ring uses a network key)" "$(node_log "$A")" &&
		grep -q "it sent a network-key handshake: this ring uses a network key" "$(node_log "$C")"; }
	wait_until 30 "A to be refused by C" said || fail "A or C does not say why A cannot fetch"
	[ ! -e "$PROCS_DIR/out/y.bin" ] && [ ! -e "$PROCS_DIR/out/z.bin" ] ||
		fail "a file crossed between the keyed and the open node"
	note "open node C in A's ring: neither fetches from the other, both logs say why"
else
	note "open node C cannot join A's ring: its datagrams are refused before TCP is reached"
fi
if joined_within "$D"; then
	"$DHTCTL_BIN" --node "$D" fetch "$y" -o "$PROCS_DIR/out" --no-wait >/dev/null ||
		fail "D's fetch did not start"
	refused() { grep -q "network-key handshake (another network key?)" "$(node_log "$D")"; }
	wait_until 30 "D to be refused by A" refused || fail "D's log does not say why it cannot fetch"
	[ ! -e "$PROCS_DIR/out/y.bin" ] || fail "D fetched from A under another key"
	note "node D of another key: refused by A, its log says so"
else
	note "node D of another key cannot join A's ring: its datagrams are refused"
fi
for n in "$A" "$B"; do node_alive "$n" || fail "$n died"; done
check_logs
note "ok"
