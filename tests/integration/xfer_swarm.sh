#!/usr/bin/env bash
# (a) One seed and four leechers of a 6 MiB file, all fetching at once: every leecher ends with
# a copy identical to the original, and the leechers traded among themselves (the seed's upload
# is capped, so it cannot have served everybody everything in the time allowed).
SLOT=11
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"

node_args() { [ "$1" = 0 ] && echo "--up-rate=2MiB"; true; }
start_ring 5 4 addr_of
wait_ring "$(addr_of 0)" 60
seed=$(addr_of 0)
make_file "$PROCS_DIR/src.bin" 6
cid=$(share_cid "$seed" "$PROCS_DIR/src.bin")
note "shared $cid from $seed (upload capped at 2 MiB/s)"

pids=()
for i in 1 2 3 4; do
	mkdir -p "$PROCS_DIR/out$i"
	"$DHTCTL_BIN" --node "$(addr_of "$i")" --json fetch "$cid" -o "$PROCS_DIR/out$i" \
		>"$PROCS_DIR/fetch$i.json" 2>"$PROCS_DIR/fetch$i.err" &
	pids+=($!)
done
for i in 1 2 3 4; do
	wait "${pids[i - 1]}" || fail "fetch on $(addr_of "$i") failed: $(cat "$PROCS_DIR/fetch$i.err")"
done
for i in 1 2 3 4; do
	same_file "$PROCS_DIR/src.bin" "$PROCS_DIR/out$i/src.bin"
	last=$(tail -n 1 "$PROCS_DIR/fetch$i.json")
	[ "$(jget done <<<"$last")" = true ] || fail "fetch $i did not end with done: $last"
	grep -q '"progress"' "$PROCS_DIR/fetch$i.json" || fail "fetch $i printed no progress lines"
	[ -z "$(ls -A "$PROCS_DIR/out$i" | grep -v '^src.bin$')" ] ||
		fail "out$i holds more than the file: $(ls -A "$PROCS_DIR/out$i")"
done
up=0
for i in 1 2 3 4; do
	u=$(xfer_field "$(addr_of "$i")" "$cid" uploaded)
	up=$((up + ${u:-0}))
	xfer_state_is "$(addr_of "$i")" "$cid" seeding || fail "leecher $i is not seeding after completion"
done
note "the leechers uploaded $up bytes to each other"
[ "$up" -gt 0 ] || fail "the leechers traded nothing among themselves"
check_logs
note "ok"
