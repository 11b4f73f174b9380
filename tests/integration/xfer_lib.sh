# Sourced by the xfer_*.sh tests after common.sh: files to share, dhtctl's file commands, and
# the checks the transfer tests share. Every helper fails the test with a message that says
# what was expected.

# make_file PATH MIB: random content of MIB MiB.
make_file()
{
	head -c "$(($2 * 1048576))" /dev/urandom >"$1"
}

# share_cid ADDR PATH: share PATH on ADDR's node and print the content id.
share_cid()
{
	local out
	out=$("$DHTCTL_BIN" --node "$1" --json share "$2") || fail "share of $2 on $1 failed: $out"
	jget content_id <<<"$out"
}

# xfer_field ADDR CID FIELD: FIELD of CID's entry in ADDR's list ("" if there is none).
xfer_field()
{
	"$DHTCTL_BIN" --node "$1" --timeout 5 --json list 2>/dev/null |
		jget 'transfers.*' | grep -F "\"$2\"" | jget "$3" || true
}

xfer_state_is()
{
	[ "$(xfer_field "$1" "$2" state)" = "$3" ]
}

# same_file A B: identical bytes (compared by SHA-256).
same_file()
{
	[ -f "$2" ] || fail "$2 does not exist"
	[ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ] || fail "$2 differs from $1"
}

# seed_and_leecher RATE: a ring of two nodes, a seed whose upload is capped at RATE and a
# leecher; sets seed and leech to their addresses.
seed_and_leecher()
{
	eval "node_args() { [ \"\$1\" = 0 ] && echo \"--up-rate=$1\"; true; }"
	start_ring 2 1 addr_of
	wait_ring "$(addr_of 0)" 60
	seed=$(addr_of 0) leech=$(addr_of 1)
}
