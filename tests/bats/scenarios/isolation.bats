#!/usr/bin/env bats
# Scenarios: the jail around the VMM, seen from the host while a VM runs.
# One run serves every case: setup_file starts it, waits until the workload
# is up, records what /proc says of the bencher-vmm process, and lets it end.

load scenario-helpers

# The bencher-vmm process of the run: the one whose executable is ours.
vmm_pid() {
	local p
	for p in $(pgrep -f bencher-vmm); do
		case $(readlink "/proc/$p/exe" 2>/dev/null) in
		*/bencher-vmm*) echo "$p"; return 0 ;;
		esac
	done
	return 1
}

setup_file() {
	scenario_setup_file
	facts=$BATS_FILE_TMPDIR/facts
	mkdir -p "$facts"
	bencher-runner run --image "$IMAGES:base" --vcpus 2 --results "$facts/results.json" \
		--cmd sh --cmd -c --cmd 'echo up; seq 1 20000 >&2; sleep 8; echo done' \
		>"$facts/out" 2>"$facts/err" &
	run_pid=$!
	for _ in $(seq 1 900); do
		grep -q up "$facts/out" 2>/dev/null && break
		sleep 0.1
	done
	pid=$(vmm_pid) || true
	if [ -n "$pid" ]; then
		echo "$pid" > "$facts/pid"
		cp "/proc/$pid/status" "$facts/status" || true
		cat "/proc/$pid/uid_map" > "$facts/uid_map" || true
		readlink "/proc/$pid/ns/pid" > "$facts/pidns" || true
		readlink "/proc/$pid/ns/net" > "$facts/netns" || true
		readlink "/proc/$pid/ns/mnt" > "$facts/mntns" || true
		ls "/proc/$pid/root/dev" > "$facts/dev" 2>&1 || true
		ls "/proc/$pid/root/proc" > "$facts/proc" 2>&1 || true
		awk 'NR > 2 {sub(":", "", $1); print $1}' "/proc/$pid/net/dev" > "$facts/ifaces" || true
		ls "/proc/$pid/fd" > "$facts/fds" 2>&1 || true
	fi
	rc=0
	wait "$run_pid" || rc=$?
	echo "$rc" > "$facts/rc"
}

setup() {
	facts=$BATS_FILE_TMPDIR/facts
	[ -s "$facts/pid" ] || die "no bencher-vmm process was found while the VM ran: $(cat "$facts/err")"
}

@test "the run itself succeeded" {
	assert_eq 0 "$(cat "$facts/rc")" "exit status; stderr: $(tail -c 600 "$facts/err")"
	assert_eq "up
done" "$(cat "$facts/out")"
}

@test "uid_namespace_isolation: the VMM runs unprivileged in its own user namespace" {
	uid=$(awk '/^Uid:/ {print $3}' "$facts/status")
	[ "$uid" != 0 ] || die "VMM runs as root"
	[ "$(id -u)" != 0 ] || assert_eq 65534 "$uid" "VMM euid"
	# A new user namespace maps a range; the initial one maps everything.
	[ "$(awk '{print $1, $2, $3}' "$facts/uid_map")" != "0 0 4294967295" ]
}

@test "dev_kvm_available: the jail's /dev has kvm and nothing else but null, zero, urandom" {
	assert_eq "kvm
null
urandom
zero" "$(sort "$facts/dev")"
}

@test "pid_namespace_isolation: the VMM is in its own PID namespace" {
	[ "$(cat "$facts/pidns")" != "$(readlink /proc/self/ns/pid)" ]
	nspid=$(awk '/^NSpid:/ {print NF - 1, $NF}' "$facts/status")
	[ "${nspid%% *}" -ge 2 ] || die "NSpid: $nspid"
	[ "${nspid##* }" -le 2 ] || die "VMM is PID ${nspid##* } in its namespace"
}

@test "pid_namespace_procfs: the jail's fresh /proc shows only the jail's processes" {
	pids=$(grep -cE '^[0-9]+$' "$facts/proc")
	[ "$pids" -ge 1 ] && [ "$pids" -le 3 ] || die "jail /proc lists $pids processes: $(tr '\n' ' ' < "$facts/proc")"
}

@test "proc_mount_works: the jail's /proc is mounted" {
	grep -qx self "$facts/proc"
	grep -qx meminfo "$facts/proc"
}

@test "no_network_access: the VMM's network namespace has only lo" {
	[ "$(cat "$facts/netns")" != "$(readlink /proc/self/ns/net)" ]
	assert_eq "lo" "$(cat "$facts/ifaces")"
}

@test "no_seccomp_sigsys: seccomp is on, capabilities gone, and a busy run survived it" {
	assert_eq 2 "$(awk '/^Seccomp:/ {print $2}' "$facts/status")"
	assert_eq 0000000000000000 "$(awk '/^CapEff:/ {print $2}' "$facts/status")"
	assert_eq 1 "$(awk '/^NoNewPrivs:/ {print $2}' "$facts/status")"
	assert_eq 20000 "$(grep -c '^[0-9]' "$facts/err")"
	assert_eq 0 "$(jq -r .exit_code "$facts/results.json")"
	[ "$(jq -r .signal "$facts/results.json")" = null ]
}
