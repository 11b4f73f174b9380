#!/usr/bin/env bash
# dhtnode's discovery options on loopback (no namespaces or root needed): --listen IFACE:PORT
# binds that interface's address (lo: 127.0.0.1) and the node answers there; an interface that
# does not exist, and --new-ring with --join, are refused with exit 2 and a sentence; a node on
# a loopback address without --join starts its own ring (no discovery there) and says so.
SLOT=48
. "$(dirname "$0")/common.sh"

port=$((PORT_BASE + 50))
note "--listen lo:$port binds 127.0.0.1:$port"
node_start "lo:$port" --new-ring
on_lo()
{
	node_alive "lo:$port" || fail "the node on lo died: $(cat "$(node_log "lo:$port")")"
	"$DHTCTL_BIN" --node "127.0.0.1:$port" --json status 2>/dev/null | grep -q '"joined"'
}
wait_until 20 "the node on 127.0.0.1:$port" on_lo || fail "no node on 127.0.0.1:$port"
st=$("$DHTCTL_BIN" --node "127.0.0.1:$port" --json status)
[ "$(jget addr <<<"$st")" = "127.0.0.1:$port" ] || fail "status: $st"

refuse()
{
	local want=$1 rc=0
	shift
	"$DHTNODE_BIN" "$@" --data-dir "$PROCS_DIR/data/refused" >/dev/null 2>"$PROCS_DIR/err" || rc=$?
	[ "$rc" -eq 2 ] && grep -Eq "$want" "$PROCS_DIR/err" ||
		fail "dhtnode $*: exit $rc, $(cat "$PROCS_DIR/err")"
}
note "a missing interface, and --new-ring with --join: exit 2 with what to write instead"
refuse "nosuchif0.*neither an IP address nor a network interface" --listen nosuchif0:$port
refuse "new-ring.*join" --listen "$(addr_of 1)" --new-ring --join "$(addr_of 2)"

note "no --join on loopback: a ring of its own at once"
node_start "$(addr_of 3)"
wait_until 20 "the loopback node" node_joined "$(addr_of 3)"
grep -q "started a new ring" "$(node_log "$(addr_of 3)")" || fail "no new ring on loopback"
