#!/usr/bin/env bash
# dhtlab (tools/dhtlab) on real dhtnode processes: the bounds' arithmetic; --version (and
# swarmsim's, with the sizes and rates every program takes, and its --trace-ms timeline); bad
# arguments exit 2 (kvload's too); a node that
# cannot start fails the run with the end of its log; a small swarm (one seed, three leechers)
# ends with verified copies and a ratio; one leecher never beats the bound (the ratio is taken
# against the bound dhtnode's caps allow, so it is at least 1), in singular words; --succ-len
# reaches every node; a tiny sweep writes its CSV and SVG, and plot redraws it with the same
# title, on linear axes when asked; SIGINT in the middle of a run kills every node and removes
# the scratch directory (exit 130).
# dhtlab starts and kills its own nodes; its scratch directories go under this test's
# directory, so that "nothing of ours still runs" is a check on that directory's name.
SLOT=30
. "$(dirname "$0")/common.sh"
DHTLAB_BIN=${DHTLAB_BIN:-$(dirname "$DHTCTL_BIN")/../dhtlab/dhtlab}
SWARMSIM_BIN=${SWARMSIM_BIN:-$(dirname "$DHTCTL_BIN")/../swarmsim/swarmsim}
export TMPDIR=$PROCS_DIR/tmp DHTNODE_BIN
mkdir -p "$TMPDIR"
lab=("$DHTLAB_BIN")

# Nothing started from this test's scratch still runs, and no scratch directory is left.
clean()
{
	dhtlab_gone "$1"
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

out=$("${lab[@]}" bounds --nodes 1 --file-mib 4 --seed-up 2MiB --peer-up 1MiB --json)
near d_p2p "$out" 2 || fail "D_p2p for one leecher: $out"
# 4 MiB through a cap of 2 MiB/s (2097160 B/s as the token bucket counts), less its 0.15 s head start.
near d_p2p_node "$out" 1.849996 || fail "D_p2p as dhtnode's caps allow: $out"

note "--version; swarmsim takes the sizes and rates dhtnode and dhtlab take"
[ "$("${lab[@]}" --version)" = "dhtlab $("$DHTNODE_BIN" --version | awk '{ print $NF }')" ] ||
	fail "dhtlab --version: $("${lab[@]}" --version 2>&1)"
"${lab[@]}" swarm --version | grep -qx 'dhtlab [0-9.]*' || fail "dhtlab swarm --version"
"$SWARMSIM_BIN" --version | grep -qx 'swarmsim [0-9.]*' || fail "swarmsim --version"
out=$("$SWARMSIM_BIN" --peers 1 --file-bytes 1M --seed-up 1M --peer-up 1M --peer-down unlimited --json) ||
	fail "swarmsim refuses 1M or unlimited"
[ "$(jget file_bytes <<<"$out")" = 1048576 ] || fail "swarmsim's 1M is not 1 MiB: $out"
out=$("$SWARMSIM_BIN" --peers 1 --file-mib 1 --seed-up 1MiB --peer-up 1MiB 2>/dev/null)
grep -Eqw '1 (peers|leechers|seeds|copies|files|classes|nodes|chunks|members)' <<<"$out" && fail "swarmsim says '1 ...s': $out"
out=$("$SWARMSIM_BIN" --peers 3 --file-mib 1 --seed-up 1MiB --trace-ms 500 2>/dev/null)
grep -q '^t 0.50  peers up [0-9.]*% (idle [0-9]*)  seed up' <<<"$out" ||
	fail "swarmsim --trace-ms prints no timeline: $out"
"$SWARMSIM_BIN" --trace-ms soon >/dev/null 2>&1 && fail "swarmsim takes --trace-ms soon"

note "bad arguments exit 2 with a sentence"
for args in "swarm --nodes 0" "swarm --peer-up 1MiB,fast" "swarm --seed-up" "frob" \
	"swarm --svg x.svg" "sweep --max-nodes -3" "swarm --dhtnode /nonexistent/dhtnode" \
	"swarm --succ-len 1" "swarm stray" "bounds --json=1"; do
	# shellcheck disable=SC2086 # the words are the arguments
	expect_exit 2 "${lab[@]}" $args
	grep -q "dhtlab: " "$PROCS_DIR/err" || fail "'dhtlab $args' said nothing on stderr"
done

note "kvload checks its values too"
echo "127.0.0.1:1" >"$PROCS_DIR/nowhere"
for args in "--keys 5x" "--size -1" "--timeout soon" "--seed 1e3"; do
	# shellcheck disable=SC2086 # the words are the arguments
	expect_exit 2 "$KVLOAD_BIN" --nodes "$PROCS_DIR/nowhere" $args put
	grep -q -- "kvload: ${args%% *} " "$PROCS_DIR/err" || fail "'kvload $args' did not name the option: $(cat "$PROCS_DIR/err")"
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

note "one leecher: not faster than the bound, and said in the singular"
# The seed's idle token bucket once let the first 0.2 MiB out at once: 1.95 s against a
# D_p2p of 2.00 s, a ratio below 1 reported as a measurement.
out=$("${lab[@]}" swarm --nodes 1 --file-mib 4 --seed-up 2MiB --peer-up 1MiB --quiet \
	--base-port "$PORT_BASE" --timeout 60) || fail "the one-leecher swarm failed: $out"
ratio=$(sed -n 's/.*ratio \([0-9.]*\).*/\1/p' <<<"$out")
awk -v r="$ratio" 'BEGIN { exit !(r >= 1 && r < 3) }' || fail "ratio '$ratio' for one leecher: $out"
grep -q INVALID <<<"$out" && fail "an invalid ratio: $out"
grep -Eqw '1 (peers|leechers|seeds|copies|files|classes|nodes|chunks|members)' <<<"$out" && fail "dhtlab says '1 ...s': $out"
clean "after the one-leecher swarm"

note "--succ-len reaches every node"
cat >"$PROCS_DIR/node-wrapper" <<EOW
#!/usr/bin/env bash
echo "\$*" >>"$PROCS_DIR/node-args"
exec "$DHTNODE_BIN" "\$@"
EOW
chmod +x "$PROCS_DIR/node-wrapper"
"${lab[@]}" swarm --nodes 2 --file-mib 1 --seed-up 4MiB --peer-up 4MiB --succ-len 2 --quiet \
	--base-port "$PORT_BASE" --timeout 60 --dhtnode "$PROCS_DIR/node-wrapper" >"$PROCS_DIR/out" ||
	fail "the swarm with --succ-len failed: $(cat "$PROCS_DIR/out")"
[ "$(grep -c -- '--succ-len 2' "$PROCS_DIR/node-args")" -ge 3 ] &&
	! grep -qv -- '--succ-len 2' "$PROCS_DIR/node-args" ||
	fail "not every node got --succ-len 2: $(cat "$PROCS_DIR/node-args")"
clean "after the --succ-len swarm"

note "a sweep of N = 1, 2 writes its table and figure"
"${lab[@]}" sweep --max-nodes 2 --file-mib 1 --seed-up 4MiB --peer-up 4MiB --quiet \
	--base-port "$PORT_BASE" --csv "$PROCS_DIR/s.csv" --svg "$PROCS_DIR/s.svg" >"$PROCS_DIR/out" ||
	fail "the sweep failed: $(cat "$PROCS_DIR/out")"
[ "$(wc -l <"$PROCS_DIR/s.csv")" -eq 3 ] || fail "the CSV: $(cat "$PROCS_DIR/s.csv")"
[ "$(cut -d, -f7 "$PROCS_DIR/s.csv" | tail -n +2 | sort -u)" = true ] || fail "a sweep run failed: $(cat "$PROCS_DIR/s.csv")"
[ "$(grep -c '<polyline' "$PROCS_DIR/s.svg")" -eq 3 ] || fail "the SVG does not have three series"
tail -1 "$PROCS_DIR/s.svg" | grep -q '</svg>' || fail "the SVG is not complete"
clean "after the sweep"

note "plot redraws the sweep with its title; --linear makes both axes linear"
title()
{
	grep -m1 -o "font-size='15'>[^<]*" "$1"
}
"${lab[@]}" plot --csv "$PROCS_DIR/s.csv" --svg "$PROCS_DIR/r.svg" || fail "plot failed"
[ "$(title "$PROCS_DIR/r.svg")" = "$(title "$PROCS_DIR/s.svg")" ] ||
	fail "the redrawn title '$(title "$PROCS_DIR/r.svg")' is not the sweep's '$(title "$PROCS_DIR/s.svg")'"
title "$PROCS_DIR/r.svg" | grep -q 'u_s = 4.00 MiB/s, u_i = 4.00 MiB/s' || fail "no rates in the title"
# D_cs = N F / u_s is a straight line in N: on linear axes its points must be collinear.
{
	echo "nodes,file_bytes,d_p2p,d_cs,last_done,ratio,verified,seed_up,peer_up,peer_down,d_p2p_node"
	for n in 1 2 4 8 16; do
		echo "$n,1048576,0.250,$((n * 2)).000,0.300,2.0000,true,524288,1048576,0,0.150"
	done
} >"$PROCS_DIR/lin.csv"
"${lab[@]}" plot --csv "$PROCS_DIR/lin.csv" --svg "$PROCS_DIR/lin.svg" --linear || fail "plot --linear failed"
grep -o "stroke='#555555' stroke-width='2' stroke-dasharray='2,3' points='[^']*" "$PROCS_DIR/lin.svg" |
	sed 's/.*points=.//' | tr ' ' '\n' | awk -F, 'BEGIN { n = 0 } NF == 2 { x[n] = $1; y[n++] = $2 }
	END {
		if (n != 5) exit 1
		for (i = 2; i < n; i++) {
			cross = (x[1] - x[0]) * (y[i] - y[0]) - (y[1] - y[0]) * (x[i] - x[0])
			if (cross > 200 || cross < -200) exit 1
		}
	}' || fail "D_cs is not a straight line on linear axes: $(grep -o "points='[^']*" "$PROCS_DIR/lin.svg")"

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
