#!/usr/bin/env bash
# cpack -G DEB builds dhtnode_VERSION_ARCH.deb: dpkg-deb -c lists every promised file under
# /usr and /etc, dpkg-deb -I shows the runtime libraries as dependencies, the maintainer
# scripts and the conffile. The package is NOT installed on this machine (apt-get install
# ./dhtnode_*.deb would change it): dpkg -x unpacks it into a scratch root instead, whose
# programs run and whose unit passes install.sh's checks with the paths /usr/bin and /etc
# (systemd-analyze verify runs on a copy whose ExecStart points into the scratch root).
SLOT=42
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/unit.sh"
: "${DHT_BUILD_DIR:?DHT_BUILD_DIR must name the build tree to package}"

command -v dpkg-shlibdeps >/dev/null ||
	fail "cpack's DEB generator needs dpkg-shlibdeps: install dpkg-dev (tools/setup-deps)"
out=$PROCS_DIR/out
timeout 150 cpack -G DEB --config "$DHT_BUILD_DIR/CPackConfig.cmake" -B "$out" \
	>"$PROCS_DIR/cpack.log" 2>&1 || fail "cpack failed: $(tail -5 "$PROCS_DIR/cpack.log")"
debs=("$out"/dhtnode_*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "expected one dhtnode_*.deb in $out"
deb=${debs[0]}
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "dhtnode_0.1.0_$arch.deb" ] || fail "unexpected name $(basename "$deb")"
note "cpack built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

dpkg-deb -c "$deb" >"$PROCS_DIR/contents"
files=$(awk '$1 !~ /^d/ { print $1, $2, $6 }' "$PROCS_DIR/contents" | sort -k3)
expected="-rw-r--r-- root/root ./etc/dhtnode/node.conf.example
-rwxr-xr-x root/root ./usr/bin/dhtctl
-rwxr-xr-x root/root ./usr/bin/dhtlab
-rwxr-xr-x root/root ./usr/bin/dhtnode
-rw-r--r-- root/root ./usr/lib/systemd/system/dhtnode@.service
-rw-r--r-- root/root ./usr/share/bash-completion/completions/dhtctl
-rw-r--r-- root/root ./usr/share/bash-completion/completions/dhtnode
-rw-r--r-- root/root ./usr/share/man/man1/dhtctl.1
-rw-r--r-- root/root ./usr/share/man/man1/dhtlab.1
-rw-r--r-- root/root ./usr/share/man/man1/dhtnode.1"
[ "$files" = "$expected" ] || fail "dpkg-deb -c differs from the list:
$(diff <(echo "$expected") <(echo "$files"))"
! grep -E ' \./usr/local|/_CPack_Packages' "$PROCS_DIR/contents" || fail "staging paths leaked"
note "dpkg-deb -c: the 10 files, owned by root, with their modes"

[ "$(dpkg-deb -f "$deb" Package)" = dhtnode ] || fail "Package is not dhtnode"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "Architecture is not $arch"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libevent-2.1-7 libsodium23 libssl3 libjansson4; do
	echo ", $depends" | grep -qE ", $lib( \(|,|$)" || fail "Depends lacks $lib: $depends"
done
note "Depends: $depends"
dpkg-deb -e "$deb" "$PROCS_DIR/control"
[ "$(cat "$PROCS_DIR/control/conffiles")" = /etc/dhtnode/node.conf.example ] ||
	fail "the conffiles are not the example config"
for s in postinst postrm; do
	[ -x "$PROCS_DIR/control/$s" ] || fail "no executable $s"
	sh -n "$PROCS_DIR/control/$s" || fail "$s is not valid sh"
	grep -q 'systemctl daemon-reload' "$PROCS_DIR/control/$s" || fail "$s does not reload systemd"
done
note "dpkg-deb -I: control, conffiles, postinst and postrm as expected"

root=$PROCS_DIR/root
dpkg -x "$deb" "$root"
for p in dhtnode dhtctl dhtlab; do
	v=$("$root/usr/bin/$p" --version) || fail "the packaged $p does not run"
	[ "$v" = "$p 0.1.0" ] || fail "the packaged $p --version said '$v'"
done
"$root/usr/bin/dhtnode" --config "$root/etc/dhtnode/node.conf.example" --version >/dev/null ||
	fail "the packaged example config does not parse"
unit="$root/usr/lib/systemd/system/dhtnode@.service"
check_unit "$unit" /usr/bin /etc
sed "s#^ExecStart=/usr/bin/dhtnode --config /etc/#ExecStart=$root/usr/bin/dhtnode --config $root/etc/#" \
	"$unit" >"$PROCS_DIR/rooted.service"
[ "$(diff "$unit" "$PROCS_DIR/rooted.service" | grep -c '^>')" = 1 ] ||
	fail "the copy for systemd-analyze should differ from the unit in ExecStart only"
verify_unit "$PROCS_DIR/rooted.service" "$root/usr/share/man"
note "ok (unpacked with dpkg -x into a scratch root, not installed on this machine)"
