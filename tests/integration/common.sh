# Sourced by every integration test after it sets SLOT (1..40, one per test): the test's nodes
# live on 127.0.SLOT.x and on ports PORT_BASE + SLOT*100 + i, so tests run in parallel, and
# DHT_IT_PORT_BASE (set by CMake from the build directory) keeps two build trees apart.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/procs.sh"
: "${KVLOAD_BIN:?KVLOAD_BIN must name the kvload binary}"
PORT_BASE=$((${DHT_IT_PORT_BASE:-20000} + SLOT * 100))
RANDOM=$SLOT # the joins go through the same members on every run

# addr_of I: the address of the test's node I (0..98).
addr_of()
{
	echo "127.0.$SLOT.$(($1 + 1)):$((PORT_BASE + $1))"
}

# An address in the test's range where nothing listens.
nobody_addr()
{
	echo "127.0.$SLOT.250:$((PORT_BASE + 99))"
}

# ring_members VIA: the members' addresses in ring order, as the ring walk from VIA reports them.
ring_members()
{
	"$DHTCTL_BIN" --node "$1" --json ring | jget 'members.*.addr'
}

# nodes_file NAME ADDR...: write a node list for kvload and print its path.
nodes_file()
{
	local f="$PROCS_DIR/$1.nodes"
	shift
	printf '%s\n' "$@" >"$f"
	echo "$f"
}

# dhtlab_gone WHEN: fail unless every process started from a dhtlab scratch directory under
# $TMPDIR has ended. (Not grep over /proc: grep's own command line would hold the pattern.)
dhtlab_gone()
{
	local f a
	for f in /proc/[0-9]*/cmdline; do
		a=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
		[[ $a == *"$TMPDIR/dhtlab."* ]] && fail "$1: still running: $a"
	done
	return 0
}

procs_init "${DHT_IT_LIMIT:-150}"
