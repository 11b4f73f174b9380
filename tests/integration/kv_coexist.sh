#!/usr/bin/env bash
# (issue 8) A key holds a value and announcements at once: `put k v` then `announce k PEER`
# (and the reverse order) leave both readable, through every node; after the key's owner leaves
# gracefully (the hand-off) and after an owner crashes (the replicas), both parts survive.
SLOT=17
. "$(dirname "$0")/common.sh"

start_ring 5 2 addr_of
wait_ring "$(addr_of 0)" 60

ctl()
{
	"$DHTCTL_BIN" --node "$1" "${@:2}"
}

# check_both VIA KEY VALUE PEER: KEY's value is VALUE and PEER is among its announcements.
check_both()
{
	local v p
	v=$(ctl "$1" get "$2") || fail "get $2 through $1 failed: $v"
	[ "$v" = "$3" ] || fail "get $2 through $1 gave '$v', not '$3'"
	p=$(ctl "$1" peers "$2") || fail "peers $2 through $1 failed: $p"
	grep -qx "$4" <<<"$p" || fail "peers $2 through $1 gave '$p', without $4"
}

# owner_of KEY: the address of KEY's owner.
owner_of()
{
	ctl "${NODES[0]}" --json lookup "$1" | jget owner.addr
}

# The owner records the announcer's own IP with the port it names (issue 10).
ip_of() { local a; a=$(addr_of "$1"); echo "${a%:*}"; }
p2="$(ip_of 1):1234" p3="$(ip_of 2):4321"

note "put, then announce; announce, then put"
ctl "$(addr_of 0)" put k2 v2 || fail "put k2 failed"
ctl "$(addr_of 1)" announce k2 127.0.0.9:1234 || fail "announce k2 failed"
ctl "$(addr_of 2)" announce k3 127.0.0.9:4321 || fail "announce k3 failed"
ctl "$(addr_of 3)" put k3 v3 || fail "put k3 failed"
for i in 0 1 2 3 4; do
	check_both "$(addr_of "$i")" k2 v2 "$p2"
	check_both "$(addr_of "$i")" k3 v3 "$p3"
done

note "the owner of k2 leaves: the hand-off carries both parts"
owner=$(owner_of k2)
node_stop "$owner" TERM || fail "$owner did not leave cleanly"
wait_ring "${NODES[0]}" 60
check_both "${NODES[0]}" k2 v2 "$p2"
check_both "${NODES[0]}" k3 v3 "$p3"

note "the owner of k3 crashes: the replicas hold both parts"
# Owners push what they own to their replicas every 5 s (--replicate default): let one push
# reach the replicas of the new owner of k2 first.
sleep 6
owner=$(owner_of k3)
nodes_crash "$owner"
wait_ring "${NODES[0]}" 60
for addr in "${NODES[@]}"; do
	check_both "$addr" k2 v2 "$p2"
	check_both "$addr" k3 v3 "$p3"
done
check_logs
note "ok"
