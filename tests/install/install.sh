#!/usr/bin/env bash
# cmake --install --prefix into a scratch directory puts every promised file in place: the
# three programs, their man pages, the systemd template unit (checked line by line and by
# systemd-analyze verify), the config example, bash completion for dhtctl and dhtnode. Then
# the installed programs run: a node started as the unit starts it (--config FILE, with
# --data-dir on the command line overriding the file's) joins, answers the installed dhtctl,
# and leaves on SIGTERM with exit 0.
SLOT=41
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/unit.sh"
: "${DHT_BUILD_DIR:?DHT_BUILD_DIR must name the build tree to install}"

prefix=$PROCS_DIR/prefix
timeout 120 cmake --install "$DHT_BUILD_DIR" --prefix "$prefix" >"$PROCS_DIR/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -5 "$PROCS_DIR/install.log")"

expected="bin/dhtctl
bin/dhtlab
bin/dhtnode
etc/dhtnode/node.conf.example
lib/systemd/system/dhtnode@.service
share/bash-completion/completions/dhtctl
share/bash-completion/completions/dhtnode
share/man/man1/dhtctl.1
share/man/man1/dhtlab.1
share/man/man1/dhtnode.1"
got=$(cd "$prefix" && find . -type f | sed 's|^\./||' | sort)
[ "$got" = "$expected" ] || fail "installed files differ from the list:
$(diff <(echo "$expected") <(echo "$got"))"
note "cmake --install --prefix put these 10 files in place (and nothing else)"

for p in dhtnode dhtctl dhtlab; do
	[ -x "$prefix/bin/$p" ] || fail "$prefix/bin/$p is not executable"
	v=$("$prefix/bin/$p" --version) || fail "the installed $p --version failed"
	[ "$v" = "$p 0.1.0" ] || fail "the installed $p --version said '$v'"
	w=$(groff -man -ww -z "$prefix/share/man/man1/$p.1" 2>&1) || fail "groff failed on $p.1"
	[ -z "$w" ] || fail "$p.1 has troff warnings: $w"
	grep -q "^$p \\\\- " "$prefix/share/man/man1/$p.1" || fail "$p.1 has no NAME line"
done
note "the programs run from the prefix; their man pages format without warnings"

unit="$prefix/lib/systemd/system/dhtnode@.service"
check_unit "$unit" "$prefix/bin" "$prefix/etc"
verify_unit "$unit" "$prefix/share/man"

# complete_as FUNC WORD...: the completions bash offers for the command line WORD... (the last
# word is the one being completed).
complete_as()
{
	local f=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	"$f"
	echo "${COMPREPLY[*]}"
}
bash_completion=$prefix/share/bash-completion/completions
. "$bash_completion/dhtnode"
. "$bash_completion/dhtctl"
[ "$(complete_as _dhtnode dhtnode --con)" = "--control-any --control-secret --config" ] ||
	fail "dhtnode --con<TAB> offers '$(complete_as _dhtnode dhtnode --con)'"
[ "$(complete_as _dhtnode dhtnode --log-level d)" = debug ] || fail "dhtnode --log-level d<TAB>"
[ "$(complete_as _dhtctl dhtctl --node 127.0.0.1:4000 f)" = "fetch forget" ] ||
	fail "dhtctl --node X f<TAB> offers '$(complete_as _dhtctl dhtctl --node 127.0.0.1:4000 f)'"
[ "$(complete_as _dhtctl dhtctl fetch abcd --d)" = "--detach" ] || fail "dhtctl fetch ID --d<TAB>"
[ "$(complete_as _dhtctl dhtctl --j)" = "--json" ] || fail "dhtctl --j<TAB>"
note "bash completion offers dhtnode's and dhtctl's options and commands"

example=$prefix/etc/dhtnode/node.conf.example
"$prefix/bin/dhtnode" --config "$example" --version >/dev/null 2>"$PROCS_DIR/err" ||
	fail "the example config does not parse: $(cat "$PROCS_DIR/err")"
sed -E 's/^# ([a-z-]+ = )/\1/' "$example" >"$PROCS_DIR/all.conf"
[ "$(grep -cE '^[a-z-]+ = ' "$PROCS_DIR/all.conf")" -ge 10 ] || fail "the example shows too few keys"
"$prefix/bin/dhtnode" --config "$PROCS_DIR/all.conf" --version >/dev/null 2>"$PROCS_DIR/err" ||
	fail "the example with every key uncommented does not parse: $(cat "$PROCS_DIR/err")"
note "the config example parses, with every key it shows"

note "a node run as the unit runs it: --config FILE --data-dir STATE"
DHTNODE_BIN=$prefix/bin/dhtnode
DHTCTL_BIN=$prefix/bin/dhtctl
a=$(addr_of 0)
name=${a//[:\[\]]/_}
cat >"$PROCS_DIR/lab.conf" <<CONF
# written by tests/install/install.sh
listen = $a
data-dir = $PROCS_DIR/data/from-file
log-level = warn
id-bits = 16
CONF
mkdir -p "$PROCS_DIR/data/state"
"$DHTNODE_BIN" --config "$PROCS_DIR/lab.conf" --data-dir "$PROCS_DIR/data/state" </dev/null \
	>>"$PROCS_DIR/log/$name.log" 2>&1 &
NODE_PID[$a]=$!
echo "$!" >>"$PROCS_DIR/pids"
NODES+=("$a")
wait_joined 30 "$a"
status=$("$DHTCTL_BIN" --node "$a" --json status) || fail "the installed dhtctl could not ask $a"
[ "$(echo "$status" | jget bits)" = 16 ] || fail "id-bits = 16 from the file did not apply"
! grep ' info ' "$PROCS_DIR/log/$name.log" || fail "log-level = warn from the file did not apply"
[ -f "$PROCS_DIR/data/state/identity.key" ] || fail "the command line's --data-dir was not used"
[ ! -e "$PROCS_DIR/data/from-file" ] || fail "the file's data-dir was used over the command line's"
node_stop "$a" TERM || fail "the node did not leave with exit 0 on SIGTERM"
check_logs
note "ok"
