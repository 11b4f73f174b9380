# tools/lib/procs.sh: start, watch and stop real dhtnode processes from bash, for the
# integration tests and the benchmarks. Source it, call procs_init, then node_start and the
# waits. Every process started here is recorded by PID and killed by PID when the script exits,
# however it exits (the trap also fires on failure and on SIGINT/SIGTERM), with SIGKILL: the
# same policy as procs.c, its twin for C tools (dhtlab). Two launchers stay because a script
# must own its children as bash jobs (wait, traps, kill -0) and a C program as forked PIDs;
# neither can start the other's without a process in between that hides the node's PID.
#
# Needs: DHTNODE_BIN and DHTCTL_BIN (paths to the binaries); JGET_BIN defaults to the jget
# next to dhtctl. Sets: PROCS_DIR (a scratch
# directory with one log and one data directory per node; removed on success unless
# PROCS_KEEP=1), NODE_PID[addr], NODES (addresses in start order).

declare -gA NODE_PID=()
declare -ga NODES=()
PROCS_DIR=""
PROCS_FAILED=0

# procs_init [SECONDS]: set up, and if SECONDS is given, a watchdog that kills every node and
# fails the script after that long, even while the script waits for a foreground command.
procs_init()
{
	: "${DHTNODE_BIN:?DHTNODE_BIN must name the dhtnode binary}"
	: "${DHTCTL_BIN:?DHTCTL_BIN must name the dhtctl binary}"
	JGET_BIN=${JGET_BIN:-$(dirname "$DHTCTL_BIN")/jget}
	PROCS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dhtprocs.XXXXXX")
	mkdir -p "$PROCS_DIR/log" "$PROCS_DIR/data"
	: >"$PROCS_DIR/pids"
	trap procs_cleanup EXIT
	trap 'PROCS_FAILED=1; exit 130' INT TERM
	[ -n "${1:-}" ] && procs_watchdog "$1"
	return 0
}

PROCS_WATCHDOG=""

procs_watchdog()
{
	local secs=$1 main=$$
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$secs" &
		s=$!
		wait "$s"
		echo "procs: the ${secs}s limit ran out; killing every node" >&2
		procs_kill_recorded
		kill -TERM "$main"
	) &
	PROCS_WATCHDOG=$!
}

# Kill every PID in the record that is still one of our dhtnodes (a PID reused by another
# program is left alone).
procs_kill_recorded()
{
	local pid
	while read -r pid; do
		grep -qF "$DHTNODE_BIN" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	done <"$PROCS_DIR/pids"
	return 0
}

# Kill every recorded process still alive (by PID, SIGKILL), keep the logs if anything failed.
procs_cleanup()
{
	local rc=$? pid
	[ -n "$PROCS_WATCHDOG" ] && kill "$PROCS_WATCHDOG" 2>/dev/null
	for pid in "${NODE_PID[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	for pid in "${NODE_PID[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	[ "$rc" -ne 0 ] && PROCS_FAILED=1
	if [ "$PROCS_FAILED" -ne 0 ] || [ "${PROCS_KEEP:-0}" = 1 ]; then
		echo "procs: logs kept in $PROCS_DIR/log" >&2
	elif [ -n "$PROCS_DIR" ]; then
		rm -rf "$PROCS_DIR"
	fi
	return "$rc"
}

# jget PATH < JSON: print the values at PATH (tools/dhtctl/jget.c).
jget()
{
	"$JGET_BIN" "$@"
}

fail()
{
	echo "FAIL: $*" >&2
	PROCS_FAILED=1
	exit 1
}

note()
{
	echo "== $*"
}

# node_start ADDR [dhtnode options...]: start a node listening on ADDR, in the background.
node_start()
{
	local addr=$1
	shift
	local name=${addr//[:\[\]]/_}
	mkdir -p "$PROCS_DIR/data/$name"
	"$DHTNODE_BIN" --listen "$addr" --data-dir "$PROCS_DIR/data/$name" "$@" \
		</dev/null >>"$PROCS_DIR/log/$name.log" 2>&1 &
	NODE_PID[$addr]=$!
	echo "$!" >>"$PROCS_DIR/pids"
	NODES+=("$addr")
}

node_log()
{
	echo "$PROCS_DIR/log/${1//[:\[\]]/_}.log"
}

node_alive()
{
	kill -0 "${NODE_PID[$1]}" 2>/dev/null
}

# node_wait ADDR: wait up to 20 s for the node to exit, forget it, and return its exit status.
node_wait()
{
	local addr=$1 pid=${NODE_PID[$1]} rc=0 i a keep=()
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { echo "node $addr did not exit within 20 s" >&2; return 124; }
	{ wait "$pid"; } 2>/dev/null || rc=$? # no "Killed" job notice from bash
	unset "NODE_PID[$addr]"
	for a in "${NODES[@]}"; do
		[ "$a" != "$addr" ] && keep+=("$a")
	done
	NODES=("${keep[@]}")
	return "$rc"
}

# node_stop ADDR SIGNAL: send SIGNAL and node_wait. Under SIGKILL the status is 137.
node_stop()
{
	kill "-$2" "${NODE_PID[$1]}" 2>/dev/null || return 1
	node_wait "$1"
}

# nodes_crash ADDR...: kill -9 them all at once, then reap them. Bash would report each killed
# job on stderr at its next command; that notice says nothing the caller does not know.
nodes_crash()
{
	local addr
	{
		for addr in "$@"; do
			kill -9 "${NODE_PID[$addr]}"
		done
		for addr in "$@"; do
			node_wait "$addr" || true
		done
	} 2>/dev/null
}

# wait_until SECONDS WHAT COMMAND...: retry COMMAND every 0.2 s until it succeeds.
wait_until()
{
	local secs=$1 what=$2
	shift 2
	local end=$((SECONDS + secs))
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && { echo "timed out after ${secs}s waiting for $what" >&2; return 1; }
		sleep 0.2
	done
}

# The node answers on its control port (TCP on its own port number) and is in a ring.
node_joined()
{
	node_alive "$1" || { echo "dhtnode $1 died; its log:" >&2; tail -20 "$(node_log "$1")" >&2; return 2; }
	"$DHTCTL_BIN" --node "$1" --timeout 2 --json status 2>/dev/null | grep -q '"state": *"joined"'
}

wait_joined()
{
	local addr
	for addr in "${@:2}"; do
		wait_until "$1" "$addr to join" node_joined "$addr" || fail "$addr did not join"
	done
}

# ring_ok VIA N: the ring seen from VIA has N members, is consistent, and they are exactly the
# nodes we believe alive.
ring_ok()
{
	local out members want
	out=$("$DHTCTL_BIN" --node "$1" --timeout 10 --json ring 2>/dev/null) || return 1
	[ "$(jget consistent <<<"$out")" = true ] || return 1
	members=$(jget 'members.*.addr' <<<"$out" | sort)
	want=$(printf '%s\n' "${NODES[@]}" | sort)
	[ "$members" = "$want" ] || return 1
	[ "$(jget 'members.#' <<<"$out")" -eq "$2" ]
}

wait_ring()
{
	wait_until "$2" "a consistent ring of ${#NODES[@]} through $1" ring_ok "$1" "${#NODES[@]}" || {
		"$DHTCTL_BIN" --node "$1" ring >&2 || true
		fail "the ring did not become consistent"
	}
}

# Start N nodes: the first creates the ring, the others join through a random running one,
# BATCH at a time, each batch waited for. ADDR_FN I prints the address of node I; if the
# function node_args exists, node_args I prints extra options for node I (one a line).
start_ring()
{
	local n=$1 batch=$2 addr_fn=$3 i j via own=()
	shift 3
	declare -F node_args >/dev/null && mapfile -t own < <(node_args 0)
	node_start "$($addr_fn 0)" "${own[@]}" "$@"
	wait_joined 30 "$($addr_fn 0)"
	for ((i = 1; i < n; i += batch)); do
		local started=() joined=${#NODES[@]}
		for ((j = i; j < i + batch && j < n; j++)); do
			via=${NODES[RANDOM % joined]}
			declare -F node_args >/dev/null && mapfile -t own < <(node_args "$j")
			node_start "$($addr_fn "$j")" --join "$via" "${own[@]}" "$@"
			started+=("$($addr_fn "$j")")
		done
		wait_joined 60 "${started[@]}"
	done
}

# Fail if a sanitizer reported anything in any node's log.
check_logs()
{
	local bad
	mapfile -t bad < <(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$PROCS_DIR"/log/*.log 2>/dev/null)
	[ "${#bad[@]}" -eq 0 ] || { head -40 "${bad[@]}" >&2; fail "sanitizer errors in ${bad[*]}"; }
}
