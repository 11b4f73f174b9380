#!/usr/bin/env bash
# (e) A node alone is a ring of one: put, get, lookup, announce and peers work, the ring walk
# shows one consistent member, a missing key is "not found", and a value's TTL expires.
SLOT=5
. "$(dirname "$0")/common.sh"

a=$(addr_of 0)
node_start "$a"
wait_joined 30 "$a"
ctl() { "$DHTCTL_BIN" --node "$a" "$@"; }

ctl put alone "just me" >/dev/null || fail "put on a one-node ring failed"
[ "$(ctl get alone)" = "just me" ] || fail "get on a one-node ring did not return the value"
owner=$(ctl --json lookup alone | jget owner.addr)
[ "$owner" = "$a" ] || fail "the owner of every key should be the node itself, not '$owner'"
out=$(ctl --json ring)
[ "$(jget consistent <<<"$out")" = true ] || fail "a one-node ring should be consistent: $out"
[ "$(jget 'members.#' <<<"$out")" = 1 ] || fail "a one-node ring should have one member: $out"
[ "$(ctl --json status | jget keys)" -ge 1 ] || fail "status should count the stored key"

rc=0
ctl get never-stored 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "get of a missing key should exit 1, not $rc"

# The owner records the announcer's own IP (issue 10), here the node's: only the port is taken.
ctl announce --id 0abc 127.0.0.1:6881 >/dev/null || fail "announce failed"
[ "$(ctl peers --id 0abc)" = "${a%:*}:6881" ] || fail "peers did not list the announced peer"

ctl put fleeting "soon gone" --ttl 1 >/dev/null || fail "put with --ttl failed"
[ "$(ctl get fleeting)" = "soon gone" ] || fail "a value with a TTL should be readable at once"
sleep 2.5
rc=0
ctl get fleeting >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a value whose 1 s TTL ran out should be gone (exit 1), got exit $rc"
check_logs
note "ok"
