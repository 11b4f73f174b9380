#!/usr/bin/env bash
# Partitions heal, rings merge (issue 12): N real nodes (PART_NODES, default 12) are split two
# thirds + one third by nftables rules on lo for PART_SPLIT seconds (default 20); each side
# repairs into a ring of its own and takes puts. Once the rules go, the nodes must form one
# consistent ring within 30 s, and every key put before or during the split must be readable
# through every node; a key one writer wrote on both sides holds the higher seq (the later write)
# everywhere. Needs root and nft: skips (exit 77) without them.
# tools/bench-partition runs it at 24 nodes and 60 s and prints the figures.
SLOT=49
N=${PART_NODES:-12}
SPLIT=${PART_SPLIT:-20}
if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null; then
	echo "SKIP: partition.sh needs root and nft (nftables) to cut lo in two"
	exit 77
fi
. "$(dirname "$0")/common.sh"
TABLE="dhtpart_$$"

part_cleanup()
{
	local rc=$?
	nft delete table inet "$TABLE" 2>/dev/null || true
	(exit "$rc")
	procs_cleanup
}
trap part_cleanup EXIT

# side_ring_ok VIA COUNT: the walk from VIA closes over a consistent ring of COUNT members.
side_ring_ok()
{
	local out
	out=$("$DHTCTL_BIN" --node "$1" --timeout 5 --json ring 2>/dev/null) || return 1
	[ "$(jget consistent <<<"$out")" = true ] && [ "$(jget 'members.#' <<<"$out")" -eq "$2" ]
}

# keys_everywhere PREFIX COUNT: every key is read intact through every node.
keys_everywhere()
{
	"$KVLOAD_BIN" --nodes "$(nodes_file all "${NODES[@]}")" --keys "$2" --prefix "$1" \
		--timeout 5 getall >/dev/null 2>&1
}

note "starting $N nodes on 127.0.$SLOT.x"
start_ring "$N" 4 addr_of
wait_ring "$(addr_of 0)" 90
# A few stabilization rounds fill the successor lists: split earlier and a node whose list held
# only nodes of the other side is left alone, a ring of one, until the heal.
sleep 5
"$KVLOAD_BIN" --nodes "$(nodes_file one "$(addr_of 0)")" --keys 30 --prefix pre put >/dev/null ||
	fail "puts before the split failed"

nb=$((N / 3))
na=$((N - nb))
side_a=() side_b=() ips_a=() ips_b=()
for ((i = 0; i < N; i++)); do
	if [ "$i" -lt "$na" ]; then
		side_a+=("$(addr_of "$i")")
		ips_a+=("127.0.$SLOT.$((i + 1))")
	else
		side_b+=("$(addr_of "$i")")
		ips_b+=("127.0.$SLOT.$((i + 1))")
	fi
done
set_a=$(IFS=,; echo "${ips_a[*]}")
set_b=$(IFS=,; echo "${ips_b[*]}")
note "splitting $na + $nb for $SPLIT s (nft table inet $TABLE)"
nft -f - <<NFT || fail "nft could not install the split"
table inet $TABLE {
	chain input {
		type filter hook input priority -10; policy accept;
		iifname "lo" ip saddr { $set_a } ip daddr { $set_b } drop
		iifname "lo" ip saddr { $set_b } ip daddr { $set_a } drop
	}
}
NFT
split_at=$SECONDS
# Each side should repair into a ring of its own; if one does not (a node lost every successor
# to the other side), the heal must still bring everything together, so that is only noted.
wait_until $((SPLIT + 10)) "a ring of $na on one side" side_ring_ok "${side_a[0]}" "$na" ||
	note "side A did not settle into one ring of $na"
wait_until $((SPLIT + 10)) "a ring of $nb on the other" side_ring_ok "${side_b[0]}" "$nb" ||
	note "side B did not settle into one ring of $nb"
note "split for $((SECONDS - split_at)) s; putting on both sides"
"$KVLOAD_BIN" --nodes "$(nodes_file a "${side_a[@]}")" --keys 30 --prefix sidea put >/dev/null ||
	fail "puts on side A failed"
"$KVLOAD_BIN" --nodes "$(nodes_file b "${side_b[@]}")" --keys 30 --prefix sideb put >/dev/null ||
	fail "puts on side B failed"
"$DHTCTL_BIN" --node "${side_a[0]}" writerkey "$PROCS_DIR/writer.key" >"$PROCS_DIR/writer.pk" ||
	fail "writerkey failed"
for side in "${side_a[0]}" "${side_b[0]}"; do
	"$DHTCTL_BIN" --node "$side" put --key-file "$PROCS_DIR/writer.key" both "from $side" \
		>/dev/null || fail "put on both sides failed at $side"
done
left=$((SPLIT - (SECONDS - split_at)))
[ "$left" -gt 0 ] && sleep "$left"

nft delete table inet "$TABLE" || fail "nft could not remove the split"
healed_at=$SECONDS
note "reconnected after $((healed_at - split_at)) s of split"
wait_until 30 "one consistent ring of $N" ring_ok "$(addr_of 0)" "$N" || {
	"$DHTCTL_BIN" --node "$(addr_of 0)" ring >&2 || true
	fail "the rings did not merge into one within 30 s"
}
merged=$((SECONDS - healed_at))
for i in $((N - 1)) $((na / 2)); do
	ring_ok "$(addr_of "$i")" "$N" || fail "the ring seen from $(addr_of "$i") is not the merged one"
done
note "RESULT one consistent ring of $N ${merged} s after the reconnect"
for p in pre sidea sideb; do
	wait_until 30 "keys $p-* through every node" keys_everywhere "$p" 30 ||
		fail "some $p-* key is not readable through some node"
done
note "RESULT every key readable through every node $((SECONDS - healed_at)) s after the reconnect"
# latest_everywhere: the writer's value under "both" is side B's (the later put) everywhere.
latest_everywhere()
{
	local n
	for n in "${NODES[@]}"; do
		[ "$("$DHTCTL_BIN" --node "$n" get --writer "$(cat "$PROCS_DIR/writer.pk")" both \
			2>/dev/null)" = "from ${side_b[0]}" ] || return 1
	done
}
wait_until 30 "the later of two writes on both sides everywhere" latest_everywhere ||
	fail "a key written on both sides does not hold the later write everywhere"
check_logs
note "ok"
