#!/usr/bin/env bash
# (issue 11) What an eavesdropper on the wire learns of a private ring: nothing it could read.
# Every packet between three keyed members (UDP and TCP, on their ports) is captured on loopback
# while a value is put and read back and a file is shared and fetched; the capture holds neither
# the value, nor the key's name, nor the content id (as text or in binary), nor any 64 bytes of
# the file in clear. First shown to fail open: the same capture of an open ring finds them.
# dhtctl's own connections to its node (from 127.0.0.1) are left out: they stay in clear.
SLOT=27
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"
: "${lo_capture_BIN:?lo_capture_BIN must name the capture program}"
: "${find_runs_BIN:?find_runs_BIN must name the search program}"
[ "$(id -u)" = 0 ] || { echo "private_capture: needs root (a packet socket)"; exit 77; }

ctl() { "$DHTCTL_BIN" --node "$1" "${@:2}"; }
ports=()

# Members of the open ring are nodes 0-2, of the private one 3-5 (fresh ids and data).
open_addr() { addr_of "$1"; }
keyed_addr() { addr_of $(($1 + 3)); }

# capture_round NAME ADDR_FN: put, get, share and fetch through the running ring of ADDR_FN's
# three members while capturing every packet on their ports into $PROCS_DIR/NAME; sets CID,
# VALUE and FILE for the check.
capture_round()
{
	local dir="$PROCS_DIR/$1" a b c ports=() i
	a=$($2 0) b=$($2 1) c=$($2 2)
	for i in 0 1 2; do ports+=(--port "$($2 "$i" | sed 's/.*://')"); done
	mkdir -p "$dir/cap" "$dir/out"
	"$lo_capture_BIN" --out "$dir/cap" "${ports[@]}" --count 20000 --seconds 40 >"$dir/cap.out" &
	local cap_pid=$!
	echo "$cap_pid" >>"$PROCS_DIR/pids"
	wait_until 5 "the capture to start" grep -q capturing "$dir/cap.out" ||
		fail "lo_capture did not start: $(cat "$dir/cap.out")"
	VALUE="the-secret-value-$1-$RANDOM$RANDOM"
	ctl "$a" put "the-secret-key-$1" "$VALUE" >/dev/null || fail "put failed ($1)"
	[ "$(ctl "$c" get "the-secret-key-$1")" = "$VALUE" ] || fail "get failed ($1)"
	FILE="$dir/src.bin"
	make_file "$FILE" 2
	CID=$(share_cid "$b" "$FILE")
	ctl "$c" fetch "$CID" -o "$dir/out" >/dev/null || fail "fetch failed ($1)"
	same_file "$FILE" "$dir/out/src.bin"
	kill "$cap_pid" 2>/dev/null
	wait "$cap_pid" 2>/dev/null || true
	# Only what travels between members (127.0.SLOT.x): dhtctl talks to its node from
	# 127.0.0.1, in clear by design, like a local user at the node's own machine.
	find "$dir/cap" -type f ! -name '*-127.0.0.1-*' -print0 | sort -z | xargs -0 cat >"$dir/all"
	[ -s "$dir/all" ] || fail "nothing was captured ($1)"
	note "$1: captured $(find "$dir/cap" -type f | wc -l) payloads, $(wc -c <"$dir/all") bytes"
}

# in_clear NAME: whether NAME's capture holds the value, the key's name, the content id (text,
# binary, or its first 20 bytes: a 160-bit DHT key) or 64 bytes of the file; says what it found.
in_clear()
{
	"$find_runs_BIN" "$PROCS_DIR/$1/all" "$FILE" "$VALUE" "the-secret-key-$1" "$CID" \
		"hex:$CID" "hex:${CID:0:40}"
}

note "an open ring: the eavesdropper reads what travels (so the check can fail)"
start_ring 3 2 open_addr
wait_ring "$(open_addr 0)" 60
capture_round open open_addr
found=$(in_clear open) && fail "the capture of an open ring showed nothing in clear"
note "open: $found"
nodes_crash "$(open_addr 0)" "$(open_addr 1)" "$(open_addr 2)"

note "a private ring: nothing in clear"
"$DHTCTL_BIN" keygen "$PROCS_DIR/net.key" >/dev/null || fail "keygen failed"
start_ring 3 2 keyed_addr --network-key "$PROCS_DIR/net.key"
wait_ring "$(keyed_addr 0)" 60
capture_round keyed keyed_addr
found=$(in_clear keyed) || fail "an eavesdropper read a private ring: $found"
check_logs
note "ok"
