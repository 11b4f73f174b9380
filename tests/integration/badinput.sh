#!/usr/bin/env bash
# (f) Garbage, truncated and oversized UDP datagrams, and malformed control connections, sent
# at a member of a 3-node ring: it keeps serving, counts the drops, and the ring stays whole.
SLOT=6
. "$(dirname "$0")/common.sh"

start_ring 3 2 addr_of
wait_ring "$(addr_of 0)" 60
a=$(addr_of 0)
host=${a%:*}
port=${a##*:}
corpus="$(dirname "$0")/../fuzz/corpus/fuzz_dht_msg"
ctl() { "$DHTCTL_BIN" --node "$a" --timeout 5 "$@"; }
"$DHTCTL_BIN" --node "$a" put before "the storm" >/dev/null || fail "put failed"

note "UDP: 300 random datagrams of 1 to 1400 bytes"
for ((i = 0; i < 300; i++)); do
	head -c $((RANDOM % 1400 + 1)) /dev/urandom >"/dev/udp/$host/$port"
done
note "UDP: every prefix of each valid message in the fuzz corpus, and each with a flipped byte"
for f in "$corpus"/*; do
	size=$(stat -c %s "$f")
	for ((k = 1; k < size; k++)); do
		head -c "$k" "$f" >"/dev/udp/$host/$port"
	done
	{ head -c $((size / 2)) "$f"; printf '\377'; tail -c +$((size / 2 + 2)) "$f"; } |
		dd bs=2000 count=1 iflag=fullblock status=none >"/dev/udp/$host/$port" 2>/dev/null || true
done
note "UDP: oversized datagrams (1,500, 9,000 and 65,000 bytes)"
for n in 1500 9000 65000; do
	# One write() is one datagram: dd writes its single block at once. 65,000 bytes is
	# above any message size but below the 65,507 that UDP over IPv4 can carry.
	dd if=/dev/urandom bs="$n" count=1 iflag=fullblock status=none >"/dev/udp/$host/$port"
done

note "TCP control: garbage, broken JSON, bad requests, an over-long line, a silent client"
trap '' PIPE # the node may close on us mid-write; that is an answer, not a reason to die
exec 7<>"/dev/tcp/$host/$port" # the silent one: must not block anybody else
# A connection that does not start with '{' is peer-wire traffic (docs/control.md): the node may
# just close it. Those only have to leave the node serving.
for junk in 'hello there' '[1,2,3]' $'\x00\x00\x00\x05hello'; do
	exec 5<>"/dev/tcp/$host/$port"
	printf '%s\n' "$junk" >&5 2>/dev/null || true
	read -r -t 5 line <&5 || true
	exec 5<&-
done
for req in '{garbage' '{"cmd":"frobnicate"}' '{"cmd":"get"}' '{"cmd":"put","key":"k","value":5}' \
	'{"cmd":"get","id":"not hex"}' '{"cmd":"ring","max":-1}'; do
	exec 5<>"/dev/tcp/$host/$port"
	printf '%s\n' "$req" >&5
	line=""
	read -r -t 5 line <&5 || true
	exec 5<&-
	[ "$(jget ok <<<"$line")" = false ] && [ "$(jget code <<<"$line")" = usage ] ||
		fail "control request '$req' got '$line' instead of a usage error"
done
exec 5<>"/dev/tcp/$host/$port"
{ printf '{"cmd":"get","key":"'; head -c 100000 /dev/zero | tr '\0' x; printf '"}\n'; } >&5 2>/dev/null || true
line=""
read -r -t 5 line <&5 || true
exec 5<&-
case "$line" in
'' | *'"ok":false'*) ;;
*) fail "a 100 KB request line got '$line'" ;;
esac

note "the node still answers"
node_alive "$a" || fail "the node died"
[ "$(ctl get before)" = "the storm" ] || fail "the value stored before is not readable"
ctl put after "still here" >/dev/null || fail "put after the garbage failed"
[ "$("$DHTCTL_BIN" --node "$(addr_of 1)" get after)" = "still here" ] || fail "get after failed"
dropped=$(ctl --json status | jget stats.dropped)
[ "$dropped" -gt 0 ] || fail "the node should count the malformed datagrams it dropped (stats.dropped is $dropped)"
note "stats.dropped = $dropped"
exec 7<&-
wait_ring "$a" 30
check_logs
note "ok"
