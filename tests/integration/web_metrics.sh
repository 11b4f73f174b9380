#!/usr/bin/env bash
# /metrics and /api/ of the web view (dhtnode --http) on real nodes: every line of /metrics
# parses as Prometheus text exposition (prom_check.awk); its counters agree with dhtctl status
# (a monotonic counter lies between the status taken before and the one taken after; keys
# and store bytes are equal) and with dhtctl list for a finished transfer (bytes, peers,
# bans); /api/status, /api/list and /api/lookup answer as the control protocol does; the page
# is one self-contained document; a Host that is a name other than localhost, a POST, an
# unknown path and a lookup without a key are refused; --http beyond loopback is refused
# with exit 2 and the reason; dhtlab --http prints every node's web view address.
# Shares SLOT 43 with web_view.sh: this test's nodes are 50..52 (ports +50..52, HTTP +70..72).
SLOT=43
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xfer_lib.sh"
check=$(dirname "$0")/prom_check.awk
command -v curl >/dev/null || fail "curl is missing: run tools/setup-deps"

http_of() { echo "127.0.$SLOT.$(($1 + 1)):$((PORT_BASE + $1 + 20))"; }
node_args() { echo "--http=$(http_of $(($1 + 50)))"; }
lab_addr() { addr_of $(($1 + 50)); }
start_ring 3 2 lab_addr --id-bits 24
wait_ring "$(lab_addr 0)" 60
a=$(lab_addr 0) b=$(lab_addr 1) web=$(http_of 50) webb=$(http_of 51)

get() { curl -sS --max-time 10 "$@"; }

note "the refusals"
out=$("$DHTNODE_BIN" --listen "127.0.$SLOT.60:$((PORT_BASE + 60))" --http 10.1.2.3:8080 2>&1) && fail "--http 10.1.2.3 ran"
[ $? -eq 2 ] || fail "--http beyond loopback did not exit 2: $out"
grep -q "beyond loopback needs the control secret" <<<"$out" || fail "no reason given: $out"
code=$(get -o /dev/null -w '%{http_code}' -H 'Host: rebind.example' "http://$web/api/status")
[ "$code" = 403 ] || fail "a foreign Host got $code, not 403"
[ "$(get -o /dev/null -w '%{http_code}' -H 'Host: localhost' "http://$web/api/status")" = 200 ] ||
	fail "Host: localhost was refused"
code=$(get -o /dev/null -w '%{http_code}' -X POST "http://$web/api/status")
[ "$code" = 501 ] || [ "$code" = 405 ] || fail "a POST got $code"
[ "$(get -o /dev/null -w '%{http_code}' "http://$web/nothing")" = 404 ] || fail "an unknown path was served"
[ "$(get -o /dev/null -w '%{http_code}' "http://$web/api/lookup")" = 400 ] || fail "a lookup without a key was run"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# Another user of the machine sees nothing: the view shows paths and runs lookups.
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	code=$(as_nobody curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$web/api/status")
	[ "$code" = 403 ] || fail "user nobody got $code from /api/status, not 403"
	body=$(as_nobody curl -sS --max-time 10 "http://$web/")
	grep -q '"code":"denied"' <<<"$body" || grep -q '"code": "denied"' <<<"$body" ||
		fail "user nobody got the page: $body"
else
	note "not root: the check that other users are refused is skipped"
fi

note "the page"
page=$(get "http://$web/")
grep -q '<svg id="ring"' <<<"$page" || fail "the page has no ring"
grep -q '<script>' <<<"$page" && grep -q '<style>' <<<"$page" || fail "the page's script or style is not inline"
grep -Eiq '(src|href)="(https?:)?//' <<<"$page" && fail "the page names an external asset"
get -D - -o /dev/null "http://$web/" | grep -qi "content-security-policy: default-src 'none'" ||
	fail "the page has no content security policy"

note "data: keys and a transfer"
for k in alpha beta gamma delta; do
	"$DHTCTL_BIN" --node "$a" put "$k" "value of $k" >/dev/null || fail "put $k failed"
done
make_file "$PROCS_DIR/src.bin" 2
cid=$(share_cid "$a" "$PROCS_DIR/src.bin")
mkdir -p "$PROCS_DIR/out"
"$DHTCTL_BIN" --node "$b" --json fetch "$cid" -o "$PROCS_DIR/out" >/dev/null || fail "the fetch failed"
same_file "$PROCS_DIR/src.bin" "$PROCS_DIR/out/src.bin"

note "/api answers as the control protocol"
api=$(get "http://$web/api/lookup?key=alpha")
ctl=$("$DHTCTL_BIN" --node "$a" --json lookup alpha)
[ "$(jget ok <<<"$api")" = true ] || fail "/api/lookup failed: $api"
[ "$(jget key_id <<<"$api")" = "$(jget key_id <<<"$ctl")" ] && [ "$(jget owner.addr <<<"$api")" = "$(jget owner.addr <<<"$ctl")" ] ||
	fail "/api/lookup and dhtctl lookup disagree: $api / $ctl"
[ "$(jget 'path.#' <<<"$api")" = "$(jget hops <<<"$api")" ] || fail "/api/lookup's path is not its hops: $api"
[ "$(get "http://$webb/api/list" | jget 'transfers.0.content_id')" = "$cid" ] || fail "/api/list lacks the transfer"
tr=$(get "http://$webb/api/transfers" | jget 'transfers.0')
[ "$(jget content_id <<<"$tr")" = "$cid" ] || fail "/api/transfers lacks the transfer: $tr"
chunks=$(jget chunks <<<"$tr")
[ "$(jget chunk_map <<<"$tr")" = "$(printf 'h%.0s' $(seq "$chunks"))" ] || fail "a complete transfer's map is not all held: $tr"

# field FILE NAME [LABELS]: the value of one sample of the checked metrics in FILE.
field() { awk -v n="$2${3:-}" '$1 == n { print $2 }' "$1"; }
# between LO X HI
between() { [ "$1" -le "$2" ] && [ "$2" -le "$3" ] || fail "$4: metrics say $2, status said $1 before and $3 after"; }

note "/metrics parses and agrees with status and list"
for n in 0 1; do
	addr=$(lab_addr $n) w=$(http_of $((n + 50)))
	before=$("$DHTCTL_BIN" --node "$addr" --json status)
	get "http://$w/metrics" >"$PROCS_DIR/metrics$n.txt" || fail "no /metrics on $w"
	after=$("$DHTCTL_BIN" --node "$addr" --json status)
	awk -f "$check" "$PROCS_DIR/metrics$n.txt" >"$PROCS_DIR/samples$n.txt" ||
		fail "/metrics of $w does not parse: $(tail -1 "$PROCS_DIR/samples$n.txt")"
	s=$PROCS_DIR/samples$n.txt
	for pair in sent:dhtnode_datagrams_sent_total received:dhtnode_datagrams_received_total \
		timeouts:dhtnode_request_timeouts_total lookups:dhtnode_lookups_total \
		lookups_failed:dhtnode_lookups_failed_total ids_refused:dhtnode_ids_refused_total; do
		k=${pair%%:*} m=${pair#*:}
		between "$(jget stats.$k <<<"$before")" "$(field "$s" "$m")" "$(jget stats.$k <<<"$after")" "$m"
	done
	dropped=$(awk '$1 ~ /^dhtnode_datagrams_dropped_total/ { s += $2 } END { print s }' "$s")
	between "$(jget stats.dropped <<<"$before")" "$dropped" "$(jget stats.dropped <<<"$after")" dropped
	[ "$(field "$s" dhtnode_store_keys)" = "$(jget keys <<<"$after")" ] || fail "store keys differ on $addr"
	[ "$(field "$s" dhtnode_store_bytes)" = "$(jget store_bytes <<<"$after")" ] || fail "store bytes differ on $addr"
	[ "$(field "$s" dhtnode_ring_state '{state="joined"}')" = 1 ] || fail "$addr is not joined by its metrics"
	[ "$(field "$s" dhtnode_ring_successors)" = "$(jget 'successors.#' <<<"$after")" ] || fail "successors differ on $addr"
	[ "$(field "$s" dhtnode_lookup_hops_count)" -le "$(field "$s" dhtnode_lookups_total)" ] || fail "more lookups in the histogram than in all"
	grep -q '^process_cpu_seconds_total ' "$s" && grep -q '^process_resident_memory_bytes [1-9]' "$s" ||
		fail "no process facts on $addr"
	list=$("$DHTCTL_BIN" --node "$addr" --json list | jget 'transfers.0')
	state=$(jget state <<<"$list")
	labels="{content_id=\"$cid\",name=\"src.bin\",state=\"$state\"}"
	for pair in bytes_done:dhtnode_transfer_bytes_done bytes_total:dhtnode_transfer_bytes_total \
		downloaded:dhtnode_transfer_downloaded_bytes_total uploaded:dhtnode_transfer_uploaded_bytes_total \
		peers:dhtnode_transfer_peers bans:dhtnode_transfer_bans_total; do
		k=${pair%%:*} m=${pair#*:}
		[ "$(field "$s" "$m" "$labels")" = "$(jget "$k" <<<"$list")" ] ||
			fail "$m on $addr: metrics say '$(field "$s" "$m" "$labels")', list says $(jget "$k" <<<"$list")"
	done
	note "$addr: $(wc -l <"$s") samples parse and agree ($(jget keys <<<"$after") keys, transfer $state)"
done
note "dhtlab --http prints every node's web view"
lab=${DHTLAB_BIN:-$(dirname "$DHTCTL_BIN")/../dhtlab/dhtlab}
export TMPDIR=$PROCS_DIR/tmp
mkdir -p "$TMPDIR"
"$lab" swarm --nodes 2 --file-mib 1 --http --quiet --base-port $((PORT_BASE + 80)) \
	>"$PROCS_DIR/lab.out" 2>"$PROCS_DIR/lab.err" || fail "dhtlab --http failed: $(cat "$PROCS_DIR/lab.err")"
[ "$(grep -c 'web view http://127\.0\.0\.[0-9]*:[0-9]*/$' "$PROCS_DIR/lab.err")" = 3 ] ||
	fail "dhtlab --http did not print 3 web views: $(cat "$PROCS_DIR/lab.err")"
check_logs
note "ok"
