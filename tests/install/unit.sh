# Sourced by install.sh and deb.sh: the checks of an installed dhtnode@.service that do not
# depend on how it was installed. Needs fail and note (tools/lib/procs.sh or the caller's).

# check_unit FILE BINDIR SYSCONFDIR: FILE is the unit with those paths, runs the node from
# its config file in its state directory, and keeps every hardening line the README promises.
check_unit()
{
	local unit=$1 bindir=$2 etc=$3 line
	[ -f "$unit" ] || fail "no unit at $unit"
	! grep -n '@[A-Z_]*@' "$unit" || fail "$unit: a placeholder was left unsubstituted"
	local want=(
		"ExecStart=$bindir/dhtnode --config $etc/dhtnode/%i.conf --data-dir %S/dhtnode/%i"
		"[Unit]" "[Service]" "[Install]" "WantedBy=multi-user.target"
		"Documentation=man:dhtnode(1) man:dhtctl(1)"
		"Restart=on-failure" "RestartPreventExitStatus=2" "KillSignal=SIGTERM"
		"DynamicUser=yes" "StateDirectory=dhtnode/%i dhtnode/%i/downloads" "StateDirectoryMode=0700"
		"ProtectSystem=strict" "ProtectHome=read-only" "PrivateTmp=yes" "PrivateDevices=yes"
		"NoNewPrivileges=yes" "CapabilityBoundingSet=" "AmbientCapabilities="
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK"
		"SystemCallFilter=@system-service" "SystemCallFilter=~@privileged @resources"
		"SystemCallArchitectures=native" "MemoryDenyWriteExecute=yes" "LockPersonality=yes"
		"RestrictNamespaces=yes" "RestrictRealtime=yes" "RestrictSUIDSGID=yes"
		"ProtectKernelTunables=yes" "ProtectKernelModules=yes" "ProtectControlGroups=yes"
		"UMask=0077"
	)
	for line in "${want[@]}"; do
		grep -qxF -- "$line" "$unit" || fail "$unit lacks the line '$line'"
	done
	! grep -nE '^(User|Group|ReadWritePaths|PermissionsStartOnly)=' "$unit" ||
		fail "$unit must run as its dynamic user and write only in its state directory"
	[ "$(grep -c '^ExecStart=' "$unit")" = 1 ] || fail "$unit: one ExecStart expected"
	note "the unit's text: ${#want[@]} required lines present"
}

# verify_unit FILE MANDIR: systemd-analyze verify accepts FILE as an instance
# (dhtnode@lab.service) and finds its man pages in MANDIR; any warning is a failure. Where
# systemd-analyze is missing this step is skipped, saying so; check_unit has run before.
verify_unit()
{
	local unit=$1 mandir=$2 dir out
	if ! command -v systemd-analyze >/dev/null; then
		echo "SKIP systemd-analyze verify: systemd-analyze is not installed (tools/setup-deps" \
			"installs systemd); the unit's text was checked above"
		return 0
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/dhtunit.XXXXXX")
	cp "$unit" "$dir/dhtnode@lab.service"
	out=$(MANPATH=$mandir timeout 60 systemd-analyze verify "$dir/dhtnode@lab.service" 2>&1) ||
		{ rm -rf "$dir"; fail "systemd-analyze verify refused the unit: $out"; }
	rm -rf "$dir"
	[ -z "$out" ] || fail "systemd-analyze verify warned about the unit: $out"
	note "systemd-analyze verify accepts dhtnode@lab.service (man pages found)"
}
