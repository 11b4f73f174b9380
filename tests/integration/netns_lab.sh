#!/usr/bin/env bash
# dhtlab --netns (tools/dhtlab/netns.c): every node a host in its own network namespace, rates
# enforced by the kernel. Without root it says so (exit 2). A small kernel-shaped swarm (4
# leechers, 4 MiB, nodes uncapped) verifies and meets the bound without beating it (so the
# kernel, not the node, held the rates back), and the seed measures its uplink; mixed rates
# with 1% loss verify too. Nothing is left after a run, after SIGINT (exit 130), and after
# SIGKILL the next run removes what the killed one left. A ring of 6 started at once without
# --join finds itself (discovery) and is one consistent ring; a node started later joins in
# under 3 s; put/get, crash, partition; a second ring founded next to it (--new-ring, keys put
# there) is found by the discovery beacons and merged: one ring, and its keys readable through
# every host; so are two rings founded by discovery on the two sides of a split, once it heals
# (issue 12).
# --delay-ms says so where the kernel has no netem. Skipped (77) where namespaces cannot be made.
# Checked before anything is set up, so that a skip leaves nothing behind.
probe=netlabprobe$$
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$probe" 2>/dev/null; then
	echo "SKIP: the netns lab needs root and network namespaces (run the tests as root)"
	exit 77
fi
ip netns del "$probe"
SLOT=48
. "$(dirname "$0")/common.sh"
DHTLAB_BIN=${DHTLAB_BIN:-$(dirname "$DHTCTL_BIN")/../dhtlab/dhtlab}
export TMPDIR=$PROCS_DIR/tmp DHTNODE_BIN
mkdir -p "$TMPDIR"
lab=(nice "$DHTLAB_BIN")


# Namespaces of dhtlab run PID; and that every dl<pid>- namespace belongs to a live dhtlab.
ns_of() { ls /run/netns 2>/dev/null | grep -c "^dl$1-" || true; }
no_orphans()
{
	local n pid
	for n in $(ls /run/netns 2>/dev/null | grep '^dl[0-9]*-' || true); do
		pid=${n#dl}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || fail "$1: namespace $n of dead dhtlab $pid is left"
	done
}
clean()
{
	dhtlab_gone "$1"
	no_orphans "$1"
}

note "without root: a sentence saying so and how to run it, exit 2"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$DHTLAB_BIN" swarm --netns --nodes 2 \
	>/dev/null 2>"$PROCS_DIR/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'needs root.*sudo' "$PROCS_DIR/err" ||
	fail "without root: exit $rc, $(cat "$PROCS_DIR/err")"

note "a kernel-shaped swarm: 4 leechers, 4 MiB, u_s 2 MiB/s, u_i 1 MiB/s"
out=$("${lab[@]}" swarm --netns --nodes 4 --file-mib 4 --seed-up 2MiB --peer-up 1MiB --json \
	--quiet) || fail "the swarm failed: $out"
[ "$(jget verified <<<"$out")" = true ] || fail "copies not verified: $out"
# Uncapped nodes on veths would finish far below D_p2p, and the run would be refused.
[ "$(jget ratio_valid <<<"$out")" = true ] || fail "the kernel did not hold the rates: $out"
awk -v r="$(jget ratio <<<"$out")" 'BEGIN { exit !(r >= 1 && r <= 1.6) }' ||
	fail "ratio $(jget ratio <<<"$out") is far from the bound"
# The nodes run without --up-rate: the seed measures its uplink from what it sends, and the
# kernel lets no more than 2 MiB/s (and a 16 KiB burst) through.
awk -v u="$(jget 'uplink.0' <<<"$out")" 'BEGIN { exit !(u >= 0.5 * 2097152 && u <= 1.1 * 2097152) }' ||
	fail "the seed measured its 2 MiB/s uplink as $(jget 'uplink.0' <<<"$out") bytes/s"
clean "after the swarm"

note "half the leechers at 0.5 MiB/s, half at 2 MiB/s, 1% loss on every link"
out=$("${lab[@]}" swarm --netns --nodes 4 --file-mib 4 --peer-up 0.5MiB,2MiB --loss 1% --json \
	--quiet) || fail "the lossy swarm failed: $out"
[ "$(jget verified <<<"$out")" = true ] || fail "lossy: copies not verified: $out"
clean "after the lossy swarm"

note "SIGKILL leaves the namespaces (and the nodes die with dhtlab); the next run removes them"
mkfifo "$PROCS_DIR/cmds"
exec 3<>"$PROCS_DIR/cmds"
"$DHTLAB_BIN" ring --netns --nodes 2 --spare 1 <"$PROCS_DIR/cmds" >"$PROCS_DIR/ring.out" 2>&1 &
labpid=$!
wait_until 60 "the ring" grep -q '"ok":true' "$PROCS_DIR/ring.out"
[ "$(ns_of "$labpid")" -ge 4 ] || fail "no namespaces for the running lab"
echo hosts >&3
wait_until 20 "the hosts" grep -q hosts "$PROCS_DIR/ring.out"
[ "$(grep hosts "$PROCS_DIR/ring.out" | jget 'hosts.*.running' | tr '\n' ' ')" = "true true false " ] ||
	fail "a spare host runs a node: $(cat "$PROCS_DIR/ring.out")"
printf '%s\n' 'start 2' 'wait-ring 3' >&3
wait_until 90 "the spare's node" grep -q '"members":3[,}]' "$PROCS_DIR/ring.out" ||
	fail "the spare did not join the ring: $(cat "$PROCS_DIR/ring.out")"
kill -9 "$labpid"
wait "$labpid" 2>/dev/null || true
[ "$(ns_of "$labpid")" -ge 4 ] || fail "SIGKILL: the namespaces vanished by themselves?"
gone() { ! pgrep -f "$TMPDIR/dhtlab" >/dev/null; }
wait_until 10 "the killed lab's nodes to die" gone
echo quit | "${lab[@]}" ring --netns --nodes 1 >/dev/null || fail "the next ring failed"
[ "$(ns_of "$labpid")" -eq 0 ] || fail "the next run left the killed run's namespaces"
rm -rf "$TMPDIR"/dhtlab.*
clean "after SIGKILL and the next run"

note "SIGINT: nodes and namespaces gone, exit 130"
"$DHTLAB_BIN" ring --netns --nodes 2 <"$PROCS_DIR/cmds" >"$PROCS_DIR/ring.out" 2>&1 &
labpid=$!
wait_until 60 "the ring" grep -q '"ok":true' "$PROCS_DIR/ring.out"
kill -INT "$labpid"
rc=0
wait "$labpid" || rc=$?
exec 3>&-
[ "$rc" -eq 130 ] || fail "SIGINT: exit $rc, not 130"
[ "$(ns_of "$labpid")" -eq 0 ] || fail "SIGINT left namespaces"
clean "after SIGINT"

note "6 nodes at once without --join: one ring by discovery; a later node, put/get, crash;"
note "a second ring (--new-ring) with keys of its own merges into it"
out=$(printf '%s\n' 'start 6' 'put 0 colour blue' 'get 5 colour' 'crash 2' 'wait-ring 6' \
	'partition 0,1,3 4,5,6' 'down 1' 'up 1' 'heal' 'found 7' 'put-keys 7 apart 8' \
	'wait-ring 7' 'wait-keys apart 8' 'quit' |
	"${lab[@]}" ring --netns --nodes 6 --discover --spare 2) || fail "the ring failed: $out"
mapfile -t line <<<"$out"
[ "${#line[@]}" -eq 14 ] || fail "want 14 answer lines: $out"
[ "$(jget members <<<"${line[0]}")" = 6 ] || fail "not one ring of 6: ${line[0]}"
awk -v t="$(jget joined_s <<<"${line[1]}")" 'BEGIN { exit !(t > 0 && t < 3) }' ||
	fail "the later node did not find the ring in under 3 s: ${line[1]}"
[ "$(jget value <<<"${line[3]}")" = blue ] || fail "get through another host: ${line[3]}"
for i in 4 5 6 7 8 9 10 11 12 13; do
	[ "$(jget ok <<<"${line[$i]}")" = true ] || fail "command $i: ${line[$i]}"
done
[ "$(jget members <<<"${line[12]}")" = 7 ] || fail "the second ring did not merge: ${line[12]}"
clean "after the ring"

note "two groups started without --join on the two sides of a split found two rings; healed, one"
out=$(printf '%s\n' 'partition 0,1,2 3,4,5' 'start 3' 'start 4' 'start 5' 'put-keys 4 sideb 5' \
	'put-keys 1 sidea 5' 'heal' 'wait-ring 6' 'wait-keys sidea 5' 'wait-keys sideb 5' 'quit' |
	"${lab[@]}" ring --netns --nodes 3 --discover --spare 3) || fail "the two rings failed: $out"
mapfile -t line <<<"$out"
[ "${#line[@]}" -eq 11 ] || fail "want 11 answer lines: $out"
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(jget ok <<<"${line[$i]}")" = true ] || fail "two rings, command $i: ${line[$i]}"
done
[ "$(jget members <<<"${line[8]}")" = 6 ] || fail "the rings founded apart did not merge: ${line[8]}"
clean "after the two rings"

note "--delay-ms: exit 2 naming netem where the kernel lacks it, else a verified run"
rc=0
"${lab[@]}" swarm --netns --nodes 1 --file-mib 1 --delay-ms 5 --quiet >/dev/null \
	2>"$PROCS_DIR/err" || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 2 ] && grep -q netem "$PROCS_DIR/err"; } ||
	fail "--delay-ms: exit $rc, $(cat "$PROCS_DIR/err")"
clean "after --delay-ms"
rm -rf "$TMPDIR"
