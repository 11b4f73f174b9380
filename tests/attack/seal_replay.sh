#!/usr/bin/env bash
# (issue 11) Replays in a private ring, with what an eavesdropper on loopback captures
# (lo_capture, root only: exit 77 without root). Values put into the ring never travel in clear
# over UDP. A real sealed datagram from one member to another, sent again to the same member
# from another address, from the sender's own address and port (spoofed, through a raw socket)
# and from the attacker's, is refused as a replay each time and changes nothing; sent to a third
# member it does not open there (it names its receiver) and is refused as forged.
SLOT=41
. "$(dirname "$0")/../integration/common.sh"
: "${lo_capture_BIN:?lo_capture_BIN must name the capture program}"
[ "$(id -u)" = 0 ] || { echo "seal_replay: needs root (a packet socket and a raw socket)"; exit 77; }

keys="$PROCS_DIR/keys"
mkdir -p "$keys"
"$DHTCTL_BIN" keygen "$keys/ring" >/dev/null || fail "dhtctl keygen failed"
start_ring 3 2 addr_of --id-bits 16 --network-key "$keys/ring"
wait_ring "$(addr_of 0)" 60
ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
A=$(addr_of 0) B=$(addr_of 1) C=$(addr_of 2)
refused() { ctl "$1" --json status | jget "network.refused.$2"; }
at_least() { [ "$(refused "$1" "$2")" -ge "$3" ]; } # NODE REASON N

note "capture the UDP traffic of $B while values are put through $A"
cap="$PROCS_DIR/capture"
mkdir -p "$cap"
"$lo_capture_BIN" --udp --port "${B##*:}" --count 400 --seconds 6 --out "$cap" >"$PROCS_DIR/cap.out" &
cap_pid=$!
echo "$cap_pid" >>"$PROCS_DIR/pids"
wait_until 5 "the capture to start" grep -q capturing "$PROCS_DIR/cap.out" ||
	fail "lo_capture did not start: $(cat "$PROCS_DIR/cap.out")"
for i in $(seq 1 10); do
	ctl "$A" put "secret$i" "in-clear-this-would-show-$i" >/dev/null || fail "put secret$i failed"
done
wait "$cap_pid" || fail "lo_capture failed: $(cat "$PROCS_DIR/cap.out")"
note "$(tail -1 "$PROCS_DIR/cap.out") datagrams"
from_a=$(find "$cap" -name "*-udp-${A%:*}-${A##*:}-${B%:*}-${B##*:}" | sort | tail -1)
[ -n "$from_a" ] || fail "no datagram from $A to $B was captured: $(ls "$cap" | head)"
[ "$(head -c 1 "$from_a" | od -An -tx1 | tr -d ' ')" = e5 ] || fail "a datagram went unsealed: $from_a"
grep -rl "in-clear-this-would-show" "$cap" && fail "a value travelled in clear"
unsealed=$(for f in "$cap"/*; do head -c 1 "$f" | od -An -tx1; done | grep -vc e5 || true)
[ "$unsealed" = 0 ] || fail "$unsealed captured datagrams are not sealed"

# send FROM TO FILE: send FILE's bytes as one UDP datagram from FROM (IP:PORT) to TO; FROM's
# port may be a member's own: a raw socket writes the UDP header, so the source is spoofed.
send() {
	python3 - "$@" <<'EOF'
import socket, struct, sys
(sip, sport), (dip, dport) = (a.rsplit(':', 1) for a in sys.argv[1:3])
data = open(sys.argv[3], 'rb').read()
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.bind((sip, 0))
s.sendto(struct.pack('>HHHH', int(sport), int(dport), 8 + len(data), 0) + data, (dip, 0))
EOF
}

keys_b=$(ctl "$B" --json status | jget keys)
r0=$(refused "$B" replay) f0=$(refused "$C" forged)
note "replay $from_a to $B: from the attacker, from $A's address, and spoofed as $A itself"
send "127.0.$SLOT.200:$((PORT_BASE + 90))" "$B" "$from_a"
send "${A%:*}:$((PORT_BASE + 91))" "$B" "$from_a"
send "$A" "$B" "$from_a"
wait_until 5 "three replays counted" at_least "$B" replay $((r0 + 3)) ||
	fail "$B counted $(refused "$B" replay) replays, $r0 before"
note "replayed to $C, which it does not name"
send "127.0.$SLOT.200:$((PORT_BASE + 90))" "$C" "$from_a"
wait_until 5 "a forgery counted at $C" at_least "$C" forged $((f0 + 1)) ||
	fail "$C counted $(refused "$C" forged) forged, $f0 before"
[ "$(ctl "$B" --json status | jget keys)" = "$keys_b" ] || fail "the replays changed $B's store"
for i in $(seq 1 10); do
	[ "$(ctl "$C" get "secret$i")" = "in-clear-this-would-show-$i" ] || fail "secret$i changed"
done
wait_ring "$A" 20
check_logs
note "ok"
