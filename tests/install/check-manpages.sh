#!/usr/bin/env bash
# The man pages and bash completion say what the programs do: every --option that dhtnode,
# dhtctl (and each "dhtctl COMMAND --help") and dhtlab print in --help is in their man page,
# every option a man page defines (a .TP item) is in --help, dhtctl's commands are the same in
# --help, the man page and the completion, and the completion offers exactly the options that
# --help lists. Usage: check-manpages.sh SOURCE_DIR (binaries from DHTNODE_BIN, DHTCTL_BIN,
# DHTLAB_BIN). Runs only --help: no node is started.
set -euo pipefail
src=${1:?usage: check-manpages.sh SOURCE_DIR}
: "${DHTNODE_BIN:?}" "${DHTCTL_BIN:?}" "${DHTLAB_BIN:?}"
errors=0

bad()
{
	echo "FAIL: $*" >&2
	errors=$((errors + 1))
}

# The long options in standard input, one a line, sorted.
opts()
{
	grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u || true
}

# The options a --help text (standard input) defines: those that open an indented line, and
# those in brackets on its usage lines; an option merely named in a sentence is not one.
help_defined()
{
	grep -E -- '^ +--|^ +-[a-z],? +--|^[Uu]sage:|^ +\[' | sed -E 's/^ +//; s/  .*//' | opts
}

# The man page FILE's text with roff's escapes for dashes and fonts undone.
man_text()
{
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$1"
}

# The options that FILE defines: those on the tag line of a .TP item.
man_defined()
{
	man_text "$1" | awk 'prev == ".TP" { print } { prev = $1 }' | opts
}

# same_opts WHAT A B: report what is in the option list A and not in B, as WHAT.
missing()
{
	comm -23 <(echo "$2") <(echo "$3") | grep . || true
}

check_page()
{
	local prog=$1 page=$2 help=$3 o
	for o in $(missing x "$help" "$(man_text "$page" | opts)"); do
		bad "$prog --help has $o, which ${page#"$src"/} does not mention"
	done
	for o in $(missing x "$(man_defined "$page")" "$help"); do
		bad "${page#"$src"/} defines $o, which $prog --help does not list"
	done
}

# dhtnode
node_help=$("$DHTNODE_BIN" --help | opts)
check_page dhtnode "$src/node/dhtnode.1" "$node_help"
node_help=$("$DHTNODE_BIN" --help | help_defined)
. "$src/packaging/completion/dhtnode"
node_compl=$(tr -s ' \t\n' '\n' <<<"$_dhtnode_opts" | grep . | sort -u)
for o in $(missing x "$node_help" "$node_compl"); do bad "the dhtnode completion lacks $o"; done
for o in $(missing x "$node_compl" "$node_help"); do bad "the dhtnode completion offers $o, not in --help"; done

# dhtctl: the options before the command, then each command's.
main_help=$("$DHTCTL_BIN" --help)
commands=$(sed -n '/^commands:/,/^$/p' <<<"$main_help" | awk 'NR > 1 && NF { print $1 }' | sort)
[ -n "$commands" ] || bad "no commands found in dhtctl --help"
all_help=$(opts <<<"$main_help")
. "$src/packaging/completion/dhtctl"
[ "$(tr ' ' '\n' <<<"$_dhtctl_commands" | sort)" = "$commands" ] ||
	bad "the dhtctl completion's commands ($_dhtctl_commands) are not --help's ($(echo $commands))"
global_defined=$(help_defined <<<"$main_help")
[ "$(tr ' ' '\n' <<<"$_dhtctl_global" | sort -u)" = "$global_defined" ] ||
	bad "the dhtctl completion's options ($_dhtctl_global) are not --help's ($(echo $global_defined))"
for c in $commands; do
	grep -qE "^(\\.BI? \"?$c[ \"]|\\\\fB$c\\\\fP |\\.B $c$)" "$src/tools/dhtctl/dhtctl.1" ||
		bad "tools/dhtctl/dhtctl.1 has no item for the command $c"
	c_help=$("$DHTCTL_BIN" "$c" --help | help_defined | grep -vxE -- '--node|--json' || true)
	all_help=$(printf '%s\n%s\n' "$all_help" "$c_help" | grep . | sort -u)
	c_compl=$(tr ' ' '\n' <<<"${_dhtctl_cmd_opts[$c]-MISSING}" | grep -- '^--' | sort -u || true)
	[ "$c_compl" = "$c_help" ] ||
		bad "the dhtctl completion offers '$(echo $c_compl)' for $c, --help lists '$(echo $c_help)'"
done
check_page dhtctl "$src/tools/dhtctl/dhtctl.1" "$all_help"

# dhtlab
check_page dhtlab "$src/tools/dhtlab/dhtlab.1" "$("$DHTLAB_BIN" --help | opts)"

if [ "$errors" -ne 0 ]; then
	echo "$errors disagreements between --help, the man pages and the completion" >&2
	exit 1
fi
echo "man pages and completion in step with --help: dhtnode $(wc -l <<<"$node_help")" \
	"options, dhtctl $(wc -w <<<"$commands") commands and $(wc -l <<<"$all_help") options," \
	"dhtlab"
