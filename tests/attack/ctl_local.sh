#!/usr/bin/env bash
# Issue 10: the control port is not a local root exploit. Another user of the machine (nobody)
# cannot control a node: not share a root-only file, not fetch into a root-only or a public
# directory, not put or get, not even by closing its socket right after the request (a closed
# socket's lingering end is reported as root's). The node's own user and root can: a root node
# for root, a node run as nobody for nobody and for root, with data directories anywhere.
# Needs root, to act as the other users (setpriv, from util-linux).
SLOT=36
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/../integration/xfer_lib.sh"

[ "$(id -u)" = 0 ] || { echo "skipped: needs root to act as user nobody"; exit 77; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_daemon() { setpriv --reuid=daemon --regid=daemon --clear-groups "$@"; }
chmod 711 "$PROCS_DIR" # the users below reach only what is opened to them

a=$(addr_of 0) b=$(addr_of 1)
node_start "$a"
wait_joined 30 "$a"
node_start "$b" --join "$a"
wait_ring "$a" 30

secret_dir="$PROCS_DIR/rootonly" public="$PROCS_DIR/public"
mkdir -m 700 "$secret_dir" "$secret_dir/in"
mkdir -m 1777 "$public"
make_file "$secret_dir/shadow" 1
chmod 600 "$secret_dir/shadow"

# The honest requests, as root: they are served.
cid=$(share_cid "$a" "$secret_dir/shadow")
"$DHTCTL_BIN" --node "$b" fetch "$cid" -o "$secret_dir/in" >/dev/null ||
	fail "root could not fetch through its own node"
same_file "$secret_dir/shadow" "$secret_dir/in/shadow"
"$DHTCTL_BIN" --node "$a" put owner-key root-value >/dev/null || fail "root could not put"
note "root shares, fetches and puts"

# is_denied WHAT LINE: LINE is the refusal, with the code denied, naming the node's user.
is_denied()
{
	[ "$(jget code <<<"$2")" = denied ] || fail "$1 as nobody: $2"
	grep -q "belongs to user root; run dhtctl as root" <<<"$2" || fail "$1: unclear: $2"
}

# denied WHAT ARGS...: dhtctl ARGS, run as nobody, exits 4 with the refusal.
denied()
{
	local what=$1 rc=0 out
	shift
	out=$(as_nobody "$DHTCTL_BIN" --json "$@" 2>/dev/null) || rc=$?
	[ "$rc" = 4 ] || fail "$what as nobody: exit $rc, $out"
	is_denied "$what" "$(tail -n 1 <<<"$out")"
}

# raw WHAT ADDR LINE: send the request LINE as nobody, past dhtctl's own checks of paths;
# the answer is the refusal.
raw()
{
	is_denied "$1" "$(as_nobody bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "%s\n" "$2" >&3
		cat <&3' "${2%:*}" "${2##*:}" "$3")"
}
raw "share of a root-only file" "$a" "{\"cmd\":\"share\",\"path\":\"$secret_dir/shadow\"}"
raw "fetch into a root-only directory" "$b" \
	"{\"cmd\":\"fetch\",\"content_id\":\"$cid\",\"out\":\"$secret_dir\"}"
denied "fetch into a public directory" --node "$b" fetch "$cid" -o "$public"
denied "put" --node "$a" put owner-key nobody-value
denied "get" --node "$a" get owner-key
denied "status" --node "$a" status
[ -z "$(ls -A "$public")" ] || fail "a file appeared in $public: $(ls -A "$public")"
[ ! -e "$secret_dir/in/shadow.part" ] || fail "a partial file appeared"
note "nobody is refused: $(as_nobody "$DHTCTL_BIN" --node "$a" status 2>&1)"

# raw_and_close HOST PORT LINE: send LINE as nobody and close the socket at once, not reading.
raw_and_close()
{
	as_nobody bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "%s\n" "$2" >&3; exec 3>&-' "$@"
}
# The node is stopped meanwhile, so that it takes the connection only once the client's end is
# closed and has become a time-wait entry (the kernel completes the handshake, queues the
# request and acknowledges the close; the FIN's ACK can take a retransmission, about 0.2 s).
kill -STOP "${NODE_PID[$a]}"
raw_and_close "${a%:*}" "${a##*:}" '{"cmd":"put","key":"owner-key","value":"closed-early"}'
sleep 1
kill -CONT "${NODE_PID[$a]}"
sleep 1
got=$("$DHTCTL_BIN" --node "$a" get owner-key) || fail "root cannot get owner-key"
[ "$got" = root-value ] || fail "a request whose socket closed early was run: owner-key is $got"
note "requests on sockets closed at once are refused too"

# A node run as nobody, with its data directory where nobody may write: nobody and root
# control it, daemon may not.
nb=$(addr_of 2)
mkdir -m 700 "$PROCS_DIR/nb" && chown nobody:nogroup "$PROCS_DIR/nb"
# setpriv itself, not a function: $! must be the node's PID (setpriv execs it), to kill it.
setpriv --reuid=nobody --regid=nogroup --clear-groups "$DHTNODE_BIN" --listen "$nb" \
	--data-dir "$PROCS_DIR/nb/data" \
	</dev/null >>"$PROCS_DIR/log/nobody-node.log" 2>&1 &
NODE_PID[$nb]=$!
echo "$!" >>"$PROCS_DIR/pids"
wait_joined 30 "$nb"
as_nobody "$DHTCTL_BIN" --node "$nb" put nb-key nb-value >/dev/null ||
	fail "nobody cannot control its own node"
[ "$("$DHTCTL_BIN" --node "$nb" get nb-key)" = nb-value ] || fail "root cannot control nobody's node"
rc=0
out=$(as_daemon "$DHTCTL_BIN" --node "$nb" get nb-key 2>&1) || rc=$?
[ "$rc" = 4 ] && grep -q "belongs to user nobody; run dhtctl as nobody or root (you are daemon)" \
	<<<"$out" || fail "daemon on nobody's node: exit $rc, $out"
note "a node of nobody's: nobody and root control it; $out"

for n in "$a" "$b" "$nb"; do node_alive "$n" || fail "node $n died"; done
check_logs
note "ok"
