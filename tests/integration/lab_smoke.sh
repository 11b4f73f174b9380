#!/usr/bin/env bash
# dhtlab (tools/dhtlab) on real dhtnode processes: the bounds' arithmetic; bad arguments exit 2;
# a node that cannot start fails the run with the end of its log; a small swarm (one seed,
# three leechers) ends with verified copies and a ratio; a tiny sweep writes its CSV and SVG;
# SIGINT in the middle of a run kills every node and removes the scratch directory (exit 130).
# dhtlab starts and kills its own nodes; its scratch directories go under this test's
# directory, so that "nothing of ours still runs" is a check on that directory's name.
SLOT=30
. "$(dirname "$0")/common.sh"
DHTLAB_BIN=${DHTLAB_BIN:-$(dirname "$DHTCTL_BIN")/../dhtlab/dhtlab}
export TMPDIR=$PROCS_DIR/tmp DHTNODE_BIN
mkdir -p "$TMPDIR"
lab=("$DHTLAB_BIN")

# Nothing started from this test's scratch still runs, and no scratch directory is left.
# (Not grep over /proc: grep's own command line would hold the pattern.)
clean()
{
	local f a
	for f in /proc/[0-9]*/cmdline; do
		a=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
		[[ $a == *"$TMPDIR/dhtlab."* ]] && fail "$1: still running: $a"
	done
	[ -z "$(ls -A "$TMPDIR")" ] || fail "$1: left $(ls "$TMPDIR") in $TMPDIR"
}

# near FIELD JSON WANT: the number at FIELD is WANT to within 1e-5.
near()
{
	awk -v a="$(jget "$1" <<<"$2")" -v b="$3" 'BEGIN { exit !(a - b < 1e-5 && b - a < 1e-5) }'
}

expect_exit()
{
	local want=$1 rc=0
	shift
	"$@" >"$PROCS_DIR/out" 2>"$PROCS_DIR/err" || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$PROCS_DIR/err" >&2; fail "'$*' exited $rc, not $want"; }
}

note "bounds: D_p2p and D_cs for the issue's two set-ups"
out=$("${lab[@]}" bounds --nodes 16 --file-mib 32 --seed-up 2MiB --peer-up 1MiB --json)
near d_p2p "$out" 28.444444 || fail "D_p2p for u_i = 1 MiB/s: $out"
near d_cs "$out" 256 || fail "D_cs: $out"
out=$("${lab[@]}" bounds --nodes 16 --file-mib 32 --seed-up 2MiB --peer-up 0.5MiB,2MiB --json)
near d_p2p "$out" 23.272727 || fail "D_p2p for mixed uplinks: $out"
out=$("${lab[@]}" bounds --nodes 4 --file-mib 8 --seed-up 8MiB --peer-up 8MiB --peer-down 1MiB --json)
near d_p2p "$out" 8 || fail "D_p2p limited by d_min: $out"

note "bad arguments exit 2 with a sentence"
for args in "swarm --nodes 0" "swarm --peer-up 1MiB,fast" "swarm --seed-up" "frob" \
	"swarm --svg x.svg" "sweep --max-nodes -3" "swarm --dhtnode /nonexistent/dhtnode"; do
	# shellcheck disable=SC2086 # the words are the arguments
	expect_exit 2 "${lab[@]}" $args
	grep -q "dhtlab: " "$PROCS_DIR/err" || fail "'dhtlab $args' said nothing on stderr"
done

note "a node that cannot start: the run fails and shows the end of its log"
expect_exit 1 "${lab[@]}" swarm --nodes 1 --file-mib 1 --log-level nonsense --base-port "$PORT_BASE"
grep -q "exited with status" "$PROCS_DIR/err" || fail "no word of the node's exit: $(cat "$PROCS_DIR/err")"
grep -q -- "--log-level" "$PROCS_DIR/err" || fail "the node's own message is not shown: $(cat "$PROCS_DIR/err")"
rm -rf "${TMPDIR:?}"/dhtlab.* # the logs a failed run keeps
clean "after the failed start"

note "a swarm of one seed and three leechers"
out=$("${lab[@]}" swarm --nodes 3 --file-mib 3 --seed-up 4MiB --peer-up 2MiB,4MiB --json --quiet \
	--base-port "$PORT_BASE" --timeout 60) || fail "the swarm failed: $out"
[ "$(jget verified <<<"$out")" = true ] || fail "copies not verified: $out"
[ "$(jget 'done.#' <<<"$out")" -eq 3 ] || fail "not three completion times: $out"
[ "$(jget 'leechers.*.sha256_ok' <<<"$out" | sort -u)" = true ] || fail "a copy differs: $out"
[ "$(jget 'peer_up.*' <<<"$out" | tr '\n' ' ')" = "2097152 4194304 2097152 " ] || fail "uplinks not round-robin: $out"
awk -v r="$(jget ratio <<<"$out")" 'BEGIN { exit !(r > 0.5 && r < 50) }' || fail "odd ratio: $out"
clean "after the swarm"

note "a sweep of N = 1, 2 writes its table and figure"
"${lab[@]}" sweep --max-nodes 2 --file-mib 1 --seed-up 4MiB --peer-up 4MiB --quiet \
	--base-port "$PORT_BASE" --csv "$PROCS_DIR/s.csv" --svg "$PROCS_DIR/s.svg" >"$PROCS_DIR/out" ||
	fail "the sweep failed: $(cat "$PROCS_DIR/out")"
[ "$(wc -l <"$PROCS_DIR/s.csv")" -eq 3 ] || fail "the CSV: $(cat "$PROCS_DIR/s.csv")"
[ "$(cut -d, -f7 "$PROCS_DIR/s.csv" | tail -n +2 | sort -u)" = true ] || fail "a sweep run failed: $(cat "$PROCS_DIR/s.csv")"
[ "$(grep -c '<polyline' "$PROCS_DIR/s.svg")" -eq 3 ] || fail "the SVG does not have three series"
tail -1 "$PROCS_DIR/s.svg" | grep -q '</svg>' || fail "the SVG is not complete"
clean "after the sweep"

note "SIGINT in the middle of a slow run: every node killed, scratch removed, exit 130"
"${lab[@]}" swarm --nodes 2 --file-mib 8 --seed-up 128KiB --peer-up 128KiB --quiet \
	--base-port "$PORT_BASE" >/dev/null 2>&1 &
labpid=$!
# The third node's log appears when it starts; by two seconds later the ring has usually
# formed and the fetches run, but a SIGINT earlier must clean up just the same.
third_started()
{
	compgen -G "$TMPDIR/dhtlab.*/n002/node.log" >/dev/null
}
wait_until 30 "the third node" third_started
sleep 2
kill -INT "$labpid"
rc=0
wait "$labpid" || rc=$?
[ "$rc" -eq 130 ] || fail "dhtlab exited $rc after SIGINT, not 130"
clean "after SIGINT"
note "ok"
