#!/usr/bin/env bash
# Issue 8 as a new user met it: one HOST:PORT syntax for dhtnode and dhtctl (a bare IPv6
# "::1:4000" is refused by both, showing the bracketed form), an "unreachable" hint that names
# only a command that works, JSON numbers without float noise, plurals, --version, a default
# data directory per address and port, and a status with every finger of the table.
SLOT=24
. "$(dirname "$0")/common.sh"

out="$PROCS_DIR/out"
err="$PROCS_DIR/err"
ctl() { "$DHTCTL_BIN" --timeout 5 "$@" >"$out" 2>"$err"; }

note "a bare IPv6 address with a port is refused everywhere, with the bracketed form"
rc=0; ctl --node ::1:4000 status || rc=$?
[ "$rc" = 2 ] || fail "dhtctl --node ::1:4000 exited $rc, not 2 (usage)"
grep -qF '[::1]:4000' "$err" || fail "dhtctl did not show [::1]:4000: $(cat "$err")"
rc=0; DHTNODE=::1:4000 ctl status || rc=$?
[ "$rc" = 2 ] && grep -qF 'DHTNODE' "$err" || fail "\$DHTNODE=::1:4000 gave $rc: $(cat "$err")"
for opt in --listen --join; do
	args=(--listen 127.0.0.1:4000 --data-dir "$PROCS_DIR/nowhere")
	[ "$opt" = --listen ] && args=(--data-dir "$PROCS_DIR/nowhere")
	rc=0; timeout 10 "$DHTNODE_BIN" "${args[@]}" "$opt" ::1:4000 2>"$err" || rc=$?
	[ "$rc" = 2 ] || fail "dhtnode $opt ::1:4000 exited $rc, not 2"
	grep -qF '[::1]:4000' "$err" || fail "dhtnode $opt did not show [::1]:4000: $(cat "$err")"
done

note "the 'unreachable' hint suggests only a dhtnode command that dhtnode accepts"
for node in nohost.invalid:4000 "$(nobody_addr)"; do
	rc=0; ctl --node "$node" status || rc=$?
	[ "$rc" = 3 ] || fail "dhtctl --node $node exited $rc, not 3: $(cat "$err")"
	suggested=$(grep -oE 'dhtnode --listen [^ ,]+' "$err" | head -1 | cut -d' ' -f3 || true)
	if [ -n "$suggested" ] && [ "$suggested" != IP:PORT ]; then
		"$DHTNODE_BIN" --listen "$suggested" --help >/dev/null 2>&1 ||
			fail "dhtctl suggested 'dhtnode --listen $suggested', which dhtnode refuses"
	fi
done

note "--version"
"$DHTNODE_BIN" --version | grep -qE '^dhtnode [0-9]' || fail "dhtnode --version"
"$DHTCTL_BIN" --version | grep -qE '^dhtctl [0-9]' || fail "dhtctl --version"

note "two nodes on one port of two addresses, with the default data directory, both run"
home="$PROCS_DIR/home"
mkdir -p "$home"
port=$((PORT_BASE + 50))
for ip in 127.0.$SLOT.2 127.0.$SLOT.3; do
	a=$ip:$port
	[ "$ip" = 127.0.$SLOT.2 ] && join=() || join=(--join "127.0.$SLOT.2:$port")
	env -u XDG_STATE_HOME HOME="$home" "$DHTNODE_BIN" --listen "$a" --id-bits 8 "${join[@]}" \
		</dev/null >>"$PROCS_DIR/log/$ip.log" 2>&1 &
	NODE_PID[$a]=$!
	echo "$!" >>"$PROCS_DIR/pids"
	NODES+=("$a")
	wait_joined 30 "$a"
done
[ -d "$home/.local/state/dhtnode/127.0.$SLOT.2-$port" ] || fail "no data directory per address"
a="127.0.$SLOT.2:$port"
wait_until 20 "a ring of 2" ring_ok "$a" 2 || fail "the two nodes did not form a ring"

note "status: every finger of an 8-bit table, with start and interval"
ctl --node "$a" --json status || fail "status failed: $(cat "$err")"
[ "$(jget 'fingers.#' <"$out")" = 8 ] || fail "status gave $(jget 'fingers.#' <"$out") fingers, not 8"
id=$(jget id <"$out")
for i in 0 3 7; do
	want=$(printf '%02x' $(((16#$id + (1 << i)) % 256)))
	[ "$(jget "fingers.$i.start" <"$out")" = "$want" ] ||
		fail "finger $i starts at $(jget "fingers.$i.start" <"$out"), not $want"
done
[ "$(jget 'fingers.7.interval.1' <"$out")" = "$id" ] || fail "the last interval does not end at the id"
ctl --node "$a" status || fail "status failed"
[ "$(grep -cE '^ +[0-9]+ +[0-9a-f]{2} +\[' "$out")" = 8 ] || fail "status printed: $(cat "$out")"

note "JSON numbers carry no float noise (\"ms\":0.043, not 0.042999999999999997)"
for i in 1 2 3 4 5 6; do
	ctl --node "$a" --json put "k$i" v || fail "put failed: $(cat "$err")"
	ctl --node "$a" --json lookup "k$i" || fail "lookup failed: $(cat "$err")"
	! grep -qE '[0-9]\.[0-9]{11,}' "$out" || fail "noisy float in $(cat "$out")"
done
jget ms <"$out" >/dev/null || fail "lookup --json has no ms"

note "plurals: a share of one file says '1 file'"
head -c 10000 /dev/urandom >"$PROCS_DIR/one.bin"
ctl --node "$a" share "$PROCS_DIR/one.bin" || fail "share failed: $(cat "$err")"
grep -qE ' 1 chunk, 1 file$' "$out" || fail "share printed: $(cat "$out")"
note "README's usage blocks are the programs' --help, word for word"
readme="$(dirname "$0")/../../README.md"
for prog in dhtnode dhtctl; do
	bin=$DHTNODE_BIN
	[ "$prog" = dhtctl ] && bin=$DHTCTL_BIN
	printed=$(awk -v h="\`$prog --help\`:" '$0 == h { f = 1; next } f && /^```/ { if (n++) exit; next } f && n' "$readme")
	[ "$printed" = "$("$bin" --help)" ] || fail "README's \`$prog --help\` block differs from $prog --help"
done
check_logs
note "ok"
