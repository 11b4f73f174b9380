#!/usr/bin/env bash
# (issue 11) Discovery in a private ring: nodes started without --join on one network find
# each other only within their key. Three nodes with one key form one ring; a node with no key
# and one with another key, seeking at the same time on the same interface, hear none of the
# keyed nodes' probes and answers (sealed) and found rings of their own; the keyed ring lists
# neither. Probes on the wire are sealed (the discovery port's payloads are not "DHTd").
# Needs root and network namespaces (one namespace, the nodes on one end of a veth pair); 77 without.
probe=sealdiscprobe$$
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$probe" 2>/dev/null; then
	echo "SKIP: needs root and network namespaces"
	exit 77
fi
ip netns del "$probe"
SLOT=35
. "$(dirname "$0")/../integration/common.sh"
: "${lo_capture_BIN:?lo_capture_BIN must name the capture program}"

ns="sealdisc$$"
ip netns add "$ns" || fail "cannot make namespace $ns"
trap 'rc=$?; procs_cleanup; kill "${cap_pid:-0}" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; exit $rc' EXIT
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns ip link add d0 type veth peer name d1
in_ns ip link set d1 up
in_ns ip link set d0 multicast on up
# Each address its own /32: a local connection from dhtctl then comes from the node's own
# address (with one /24, every one comes from the first address, which the control access
# check, sock_diag, does not find as a local client).
for i in 1 2 3 4 5; do in_ns ip addr add "10.$SLOT.0.$i/32" dev d0; done
at() { echo "10.$SLOT.0.$1:$((PORT_BASE + $1))"; }

keys="$PROCS_DIR/keys"
mkdir -p "$keys"
"$DHTCTL_BIN" keygen "$keys/ring" >/dev/null || fail "dhtctl keygen failed"
"$DHTCTL_BIN" keygen "$keys/other" >/dev/null || fail "dhtctl keygen failed"

# DHTNODE_BIN runs in the namespace: node_start's own bookkeeping (pids, logs) stays as is.
real_node=$DHTNODE_BIN
DHTNODE_BIN="$PROCS_DIR/dhtnode-in-ns"
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$real_node" >"$DHTNODE_BIN"
chmod +x "$DHTNODE_BIN"
ctl() { in_ns "$DHTCTL_BIN" --node "$1" "${@:2}"; }

# On d1, the far end: a packet socket sees no looped-back copy of a multicast datagram.
cap="$PROCS_DIR/capture"
mkdir -p "$cap"
in_ns "$lo_capture_BIN" --iface d1 --udp --port 4077 --count 50 --seconds 4 --out "$cap" \
	>"$PROCS_DIR/cap.out" &
cap_pid=$!
echo "$cap_pid" >>"$PROCS_DIR/pids"
wait_until 5 "the capture to start" grep -q capturing "$PROCS_DIR/cap.out" || fail "no capture"

note "three keyed nodes, an open one and one with another key, all seeking at once"
for i in 1 2 3; do node_start "$(at "$i")" --id-bits 16 --network-key "$keys/ring"; done
node_start "$(at 4)" --id-bits 16
node_start "$(at 5)" --id-bits 16 --network-key "$keys/other"
joined() { ctl "$1" --timeout 2 --json status 2>/dev/null | grep -q '"state": *"joined"'; }
for i in 1 2 3 4 5; do wait_until 30 "$(at "$i") in a ring" joined "$(at "$i")" || fail "$(at "$i") is in no ring"; done
keyed_ring() {
	local m
	m=$(ctl "$(at 1)" --timeout 10 --json ring | jget 'members.*.addr' | sort | tr '\n' ' ')
	[ "$m" = "$(at 1) $(at 2) $(at 3) " ]
}
wait_until 30 "the keyed ring of three" keyed_ring ||
	fail "the keyed ring is not the three keyed nodes: $(ctl "$(at 1)" ring)"
for i in 4 5; do
	m=$(ctl "$(at "$i")" --json ring | jget 'members.*.addr')
	[ "$m" = "$(at "$i")" ] || fail "$(at "$i") found another ring: $m"
done
ctl "$(at 2)" put k v >/dev/null && [ "$(ctl "$(at 3)" get k)" = v ] || fail "put/get in the keyed ring"

wait "$cap_pid" || true
note "$(tail -1 "$PROCS_DIR/cap.out") discovery datagrams"
first_bytes() { for f in "$cap"/*; do [ -f "$f" ] && echo "$(head -c 4 "$f" | tr -d '\0') ${f##*/}"; done; }
[ -n "$(first_bytes | grep -a '^DHTd .*-10\.'$SLOT'\.0\.4-' || true)" ] ||
	fail "the open node's probes were not seen (is the capture working?): $(ls "$cap" | head -3)"
first_bytes | grep -a '^DHTd ' | grep -qv -- "-10\.$SLOT\.0\.4-" && fail "a keyed node probed in clear"
n_sealed=$(for f in "$cap"/*; do head -c 1 "$f" | od -An -tx1; done | grep -c e5 || true)
[ "$n_sealed" -gt 0 ] || fail "no sealed probe was seen on the wire"
check_logs
note "ok"
