#!/usr/bin/env bats
# bencher-jailer as a user sees it: jails small programs (the static prober,
# busybox, dynamic /bin programs) and checks from inside and outside. The
# cgroup tests here use whatever this host has (v1 on the dev machines); the
# v2 ones run in the test host (tests/bats/kvm/jailer-cgroup2.bats).

load helpers
load jailer-helpers

setup() {
	require_root
	ID=bats-$$-$BATS_TEST_NUMBER
	J=("$JAILER" --id "$ID")
	# On a v2 host the shell's own cgroup holds other processes and cannot
	# give a child controllers: jail below an empty cgroup of our own.
	if [ "$(host_cgroup_version)" = 2 ]; then
		V2PARENT=$(cgroup2_mount)/bats-jailer-$$
		mkdir -p "$V2PARENT"
		J+=(--parent-cgroup "/bats-jailer-$$")
	fi
}

# The jail's cgroup directory for a v1 controller (or v2).
jail_cg_dir() {
	if [ -n "${V2PARENT:-}" ]; then echo "$V2PARENT/$ID"; else echo "$(own_cgroup_dir "$1")/$ID"; fi
}

teardown() {
	local d
	[ -z "${V2PARENT:-}" ] || rmdir "$V2PARENT" 2>/dev/null
	[ -z "${PUBLIC:-}" ] || rm -rf "$PUBLIC"
	for d in /sys/fs/cgroup/*/bats-parent-"$$" /sys/fs/cgroup/memory/*/*/bats-parent-"$$"; do
		[ -d "$d" ] && rmdir "$d"/* "$d" 2>/dev/null
	done
	return 0
}

@test "static program: no capabilities, no_new_privs, uid/gid 65534" {
	run "${J[@]}" --exec "$PROBER" -- status
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "CapEff: 0000000000000000"
	assert_contains "$output" "CapPrm: 0000000000000000"
	assert_contains "$output" "CapBnd: 0000000000000000"
	assert_contains "$output" "CapAmb: 0000000000000000"
	assert_contains "$output" "CapInh: 0000000000000000"
	assert_contains "$output" "NoNewPrivs: 1"
	assert_contains "$output" "Seccomp: 0"   # the VMM installs its own filter
	assert_contains "$output" "Uid: 65534	65534	65534	65534"
	assert_contains "$output" "Gid: 65534	65534	65534	65534"
	assert_contains "$output" "Groups: 
"
}

@test "--uid and --gid choose the ids" {
	run "${J[@]}" --uid 1234 --gid 4321 --exec "$PROBER" -- status
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "Uid: 1234	1234	1234	1234"
	assert_contains "$output" "Gid: 4321	4321	4321	4321"
}

@test "/proc shows only the jail's processes" {
	run "${J[@]}" --exec "$BUSYBOX" -- sh -c 'ls /proc | grep -E "^[0-9]+$" | tr "\n" " "'
	[ "$status" -eq 0 ] || die "$output"
	# PID 1 (the jailer's reaper), 2 (sh), its children (ls, grep, tr).
	for p in $output; do [ "$p" -le 10 ] || die "host pid $p visible: $output"; done
	assert_contains " $output" " 1 2 "
}

@test "network: only lo, up; hostname; own IPC namespace" {
	shm=$(ipcmk -M 4096 | grep -o '[0-9]*$')
	run "${J[@]}" --hostname jailhost --exec "$BUSYBOX" -- sh -c \
		'sed -n "3,\$p" /proc/net/dev | cut -d: -f1 | tr -d " "; hostname; wc -l < /proc/sysvipc/shm; ip link 2>/dev/null | grep -c "UP"'
	ipcrm -m "$shm"
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "lo" "${lines[0]}" "interfaces"
	assert_eq "jailhost" "${lines[1]}" "hostname"
	assert_eq "1" "${lines[2]}" "SysV shared memory lines (the header only)"
	assert_eq "1" "${lines[3]}" "lo is up"
	run "${J[@]}" --exec "$BUSYBOX" -- hostname
	assert_eq "$ID" "$output" "default hostname"
}

@test "/dev holds only null, zero, urandom and kvm, and they work" {
	run "${J[@]}" --exec "$BUSYBOX" -- sh -c \
		'ls /dev | tr "\n" " "; echo; echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c; touch /dev/new 2>&1'
	[ "$status" -ne 0 ] || die "creating /dev/new worked: $output"
	expected="null urandom zero "
	[ -c /dev/kvm ] && expected="kvm null urandom zero "
	assert_eq "$expected" "${lines[0]}" "/dev"
	assert_eq "4" "${lines[1]}"
	assert_eq "8" "${lines[2]}"
	assert_contains "$output" "Read-only file system"
}

@test "the old root is gone and the jail root is read-only" {
	run "${J[@]}" --exec "$BUSYBOX" -- sh -c \
		'ls /; test -e /etc/passwd && echo PASSWD; test -e /work && echo WORK; grep -c . /proc/self/mountinfo; touch /newfile 2>&1'
	assert_eq "dev proc" "${lines[0]} ${lines[1]}" "root listing"
	[[ $output != *PASSWD* && $output != *WORK* ]] || die "host files visible: $output"
	# /, /proc, /dev and the four device nodes: nothing of the host's tree.
	[ "${lines[2]}" -le 8 ] || die "mounts: ${lines[2]}"
	assert_contains "$output" "Read-only file system"
}

@test "bind mounts: read-only and read-write" {
	src=$BATS_TEST_TMPDIR/data
	mkdir -p "$src"
	echo hello > "$src/in"
	chmod 777 "$src"
	run "${J[@]}" --bind "$src:/data:ro" --exec "$PROBER" -- write /data/out
	[ "$status" -eq 1 ] || die "$output"
	assert_contains "$output" "/data/out: Read-only file system"
	[ ! -e "$src/out" ]
	run "${J[@]}" --bind "$src:/data" --exec "$PROBER" -- write /data/out
	[ "$status" -eq 0 ] || die "$output"
	[ -f "$src/out" ]
	run "${J[@]}" --bind "$src/in:/in.txt:ro" --exec "$BUSYBOX" -- cat /in.txt
	assert_eq "hello" "$output"
}

@test "fds not passed are closed; --keep-fd and --fd pass them" {
	echo content > "$BATS_TEST_TMPDIR/f"
	# 1500 lies above the jail's RLIMIT_NOFILE: closed all the same.
	exec 7</dev/null 8</dev/null 1500</dev/null
	run "${J[@]}" --keep-fd 8 --exec "$PROBER" -- fds
	exec 7<&- 8<&- 1500<&-
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "0 1 2 8" "${lines[*]}" "fds"
	run "${J[@]}" --fd "$BATS_TEST_TMPDIR/f:5" --exec "$BUSYBOX" -- sh -c 'ls /proc/self/fd | tr "\n" " "; cat <&5'
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "content"
	run "${J[@]}" --fd "$BATS_TEST_TMPDIR/new:3:rw" --exec "$BUSYBOX" -- sh -c 'echo written >&3'
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "written" "$(cat "$BATS_TEST_TMPDIR/new")"
}

@test "--keep-fd of a closed fd and --fd of a missing file are refused" {
	run "${J[@]}" --keep-fd 9 --exec "$PROBER" -- fds
	assert_eq 1 "$status"
	assert_contains "$output" "keep fd 9: not open"
	run "${J[@]}" --fd /nonexistent:3 --exec "$PROBER" -- fds
	assert_eq 1 "$status"
	assert_eq "bencher-jailer: open /nonexistent: No such file or directory" "$output"
}

@test "rlimits: NOFILE 1024, NPROC 64, CORE 0, FSIZE as configured" {
	run "${J[@]}" --max-file-size 1M --exec "$BUSYBOX" -- cat /proc/self/limits
	[ "$status" -eq 0 ] || die "$output"
	[[ $output =~ Max\ open\ files\ +1024\ +1024 ]] || die "$output"
	[[ $output =~ Max\ processes\ +64\ +64 ]] || die "$output"
	[[ $output =~ Max\ core\ file\ size\ +0\ +0 ]] || die "$output"
	[[ $output =~ Max\ file\ size\ +1048576\ +1048576 ]] || die "$output"
}

@test "environment: cleared to what the config gives" {
	FOO=leak run "${J[@]}" --env A=1 --env B=two=2 --exec "$PROBER" -- env
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "A=1 B=two=2" "${lines[*]}"
}

@test "exit codes and 128+signal pass through" {
	run "${J[@]}" --exec "$PROBER" -- exit 0
	assert_eq 0 "$status"
	run "${J[@]}" --exec "$PROBER" -- exit 3
	assert_eq 3 "$status"
	run "${J[@]}" --exec "$PROBER" -- exit 255
	assert_eq 255 "$status"
	run "${J[@]}" --exec "$PROBER" -- kill 11
	assert_eq 139 "$status"
	run "${J[@]}" --exec "$BUSYBOX" -- sh -c 'kill -TERM $$'
	assert_eq 143 "$status"
	run "${J[@]}" --exec "$BUSYBOX" -- sh -c 'kill -KILL $$'
	assert_eq 137 "$status"
}

@test "dynamic programs get their interpreter and libraries" {
	run "${J[@]}" --exec /bin/cat -- /proc/self/status
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "NoNewPrivs:	1"
	run "${J[@]}" --exec /bin/ls -- /lib/x86_64-linux-gnu
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "libselinux.so.1"
	assert_contains "$output" "libpcre2-8.so.0"  # needed by libselinux
	run "${J[@]}" --exec "$PROBER_DYN" -- status
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "CapEff: 0000000000000000"
	# The jailer itself, found through PATH.
	run "${J[@]}" -- bencher-jailer --version
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "bencher-jailer (bencher-runner)"
}

@test "libraries are mounted read-only" {
	run "${J[@]}" --uid 0 --gid 0 --exec /bin/ls -- -l /lib64/ld-linux-x86-64.so.2
	[ "$status" -eq 0 ] || die "$output"
	run "${J[@]}" --uid 0 --gid 0 --exec "$BUSYBOX" -- sh -c 'echo x >> /bin/nothing; touch /dev/null/x' 
	[ "$status" -ne 0 ]
	run "${J[@]}" --uid 0 --gid 0 --bind /usr/lib/x86_64-linux-gnu/libc.so.6:/libc.so.6:ro \
		--exec "$PROBER" -- write /libc.so.6
	assert_contains "$output" "Read-only file system"
}

@test "a script cannot be the program: the message says why" {
	printf '#!/bin/sh\necho hi\n' > "$BATS_TEST_TMPDIR/s.sh"
	chmod +x "$BATS_TEST_TMPDIR/s.sh"
	run "${J[@]}" --exec "$BATS_TEST_TMPDIR/s.sh"
	assert_eq 1 "$status"
	assert_contains "$output" "not an ELF program"
}

@test "memory hog is killed at the memory limit" {
	run "${J[@]}" --memory 32M --stats-out "$BATS_TEST_TMPDIR/stats.json" --exec "$PROBER" -- hog 512
	assert_eq 137 "$status" "status"
	[[ $output != *"allocated 512"* ]] || die "$output"
	assert_eq 33554432 "$(json_field "$BATS_TEST_TMPDIR/stats.json" memory_max_bytes)" "memory_max_bytes"
	peak=$(json_field "$BATS_TEST_TMPDIR/stats.json" memory_peak_bytes)
	[ "$peak" -gt $((16 << 20)) ] && [ "$peak" -le $((32 << 20)) ] || die "peak $peak"
}

@test "fork bomb stops at pids.max" {
	run "${J[@]}" --pids 8 --stats-out "$BATS_TEST_TMPDIR/stats.json" --exec "$PROBER" -- forkbomb 1000
	[ "$status" -eq 0 ] || die "$output"
	[[ $output =~ forked\ ([0-9]+):\ Resource\ temporarily\ unavailable ]] || die "$output"
	# PID 1 and the prober count too.
	[ "${BASH_REMATCH[1]}" -le 6 ] || die "$output"
	assert_eq 8 "$(json_field "$BATS_TEST_TMPDIR/stats.json" pids_max)"
}

@test "cpu quota 0.5 is set in the cgroup and holds the program back" {
	[ "$(host_cgroup_version)" = 1 ] || skip "v2: tests/bats/kvm/jailer-cgroup2.bats"
	"${J[@]}" --cpu 0.5 --exec "$BUSYBOX" -- sleep 30 &
	pid=$!
	dir=$(jail_cg_dir cpu)
	wait_for test -e "$dir/cpu.cfs_quota_us"
	quota=$(cat "$dir/cpu.cfs_quota_us")
	period=$(cat "$dir/cpu.cfs_period_us")
	kill -TERM "$pid"
	wait "$pid" || true
	assert_eq 50000 "$quota" "cpu.cfs_quota_us"
	assert_eq 100000 "$period" "cpu.cfs_period_us"

	start=$(date +%s%N)
	run "${J[@]}" --cpu 0.5 --stats-out "$BATS_TEST_TMPDIR/stats.json" --exec "$PROBER" -- burn 0.4
	elapsed_ms=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 0 ] || die "$output"
	# 400 ms of CPU at 50 ms per 100 ms period cannot take less than 700 ms.
	[ "$elapsed_ms" -ge 700 ] || die "burned 0.4 s of CPU in $elapsed_ms ms"
	usage=$(json_field "$BATS_TEST_TMPDIR/stats.json" cpu_usage_usec)
	[ "$usage" -ge 400000 ] || die "cpu_usage_usec $usage"
	grep -q '"nr_throttled":' "$BATS_TEST_TMPDIR/stats.json"
	assert_eq 1 "$(json_field "$BATS_TEST_TMPDIR/stats.json" cgroup_version)"
}

@test "the child is in the jail's cgroup before it runs" {
	"${J[@]}" --pids 50 --exec "$BUSYBOX" -- sleep 30 &
	pid=$!
	ctrl=pids
	[ "$(host_cgroup_version)" = 2 ] && ctrl=
	dir=$(jail_cg_dir "$ctrl")
	wait_for test -e "$dir/cgroup.procs"
	wait_for cgroup_procs_is "$dir" 2
	procs=$(wc -l < "$dir/cgroup.procs")
	kill -TERM "$pid"
	wait "$pid" || true
	assert_eq 2 "$procs" "processes in the cgroup (reaper + sleep)"
}

@test "SIGTERM to the jailer ends the child and leaves no cgroup, mount or jail root" {
	mounts_before=$(wc -l < /proc/self/mountinfo)
	root=$BATS_TEST_TMPDIR/newroot
	ctrl=memory
	[ "$(host_cgroup_version)" = 2 ] && ctrl=
	dir=$(jail_cg_dir "$ctrl")
	signal_jail TERM "$dir" "${J[@]}" --jail-root "$root" --memory 64M --exec "$BUSYBOX" -- sleep 100
	assert_eq 143 "$st" "status"
	[ ! -e "$dir" ] || die "cgroup $dir left behind"
	for d in /sys/fs/cgroup/*/"$ID"; do [ ! -e "$d" ] || die "$d left behind"; done
	[ ! -e "$root" ] || die "jail root left behind"
	assert_eq "$mounts_before" "$(wc -l < /proc/self/mountinfo)" "host mounts"
}

@test "SIGINT is forwarded too" {
	signal_jail INT "$(jail_cg_dir pids)" "${J[@]}" --exec "$BUSYBOX" -- sleep 100
	assert_eq 130 "$st"
}

@test "an existing jail root keeps its files; the mount points made for the jail go" {
	root=$BATS_TEST_TMPDIR/existing
	mkdir -p "$root/etc"
	echo mine > "$root/etc/file"
	chmod -R a+rX "$root"
	run "${J[@]}" --jail-root "$root" --bind "$BATS_TEST_TMPDIR:/mnt/x/y" --exec /bin/cat -- /etc/file
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "mine" "$output"
	assert_eq "etc" "$(ls "$root")" "jail root afterwards"
	assert_eq "mine" "$(cat "$root/etc/file")"
}

@test "a symlink in the jail root is not followed" {
	root=$BATS_TEST_TMPDIR/evil
	mkdir -p "$root" "$BATS_TEST_TMPDIR/outside"
	ln -s "$BATS_TEST_TMPDIR/outside" "$root/lib"
	run "${J[@]}" --jail-root "$root" --exec /bin/cat -- /dev/null
	assert_eq 1 "$status"
	assert_contains "$output" "$root/lib: a symbolic link"
	assert_eq "" "$(ls "$BATS_TEST_TMPDIR/outside")" "nothing created outside"
}

@test "errors name the path" {
	run "${J[@]}" --bind /nonexistent:/x --exec "$PROBER" -- status
	assert_eq 1 "$status"
	assert_contains "$output" "bencher-jailer: bind /nonexistent to "
	assert_contains "$output" "/x: No such file or directory"
	run "${J[@]}" --exec /nonexistent
	assert_eq "bencher-jailer: open /nonexistent: No such file or directory" "$output"
	run "${J[@]}" --workdir /nowhere --exec "$PROBER" -- status
	assert_eq 1 "$status"
	assert_eq "bencher-jailer: chdir /nowhere: No such file or directory" "$output"
	run "${J[@]}" -- no-such-command
	assert_eq "bencher-jailer: no-such-command: command not found in PATH" "$output"
}

@test "JSON config in the seed's format" {
	mkdir -p "$BATS_TEST_TMPDIR/k"
	echo kernel > "$BATS_TEST_TMPDIR/k/vmlinux"
	cat > "$BATS_TEST_TMPDIR/jail.json" <<-EOF
	{
	  "id": "$ID",
	  "exec_path": "$BUSYBOX",
	  "exec_args": ["sh", "-c", "cat /kernel; hostname; echo \$RUST_BACKTRACE; id -u; cat /proc/self/limits | grep 'open files'"],
	  "uid": 2000,
	  "gid": 2000,
	  "limits": { "cpu_quota_us": 100000, "cpu_period_us": 100000, "memory_bytes": 536870912,
	              "max_fds": 512, "max_procs": 64 },
	  "namespaces": { "user": true, "pid": true, "mount": true, "network": true, "uts": true,
	                  "ipc": true, "cgroup": true },
	  "bind_mounts": [ { "source": "$BATS_TEST_TMPDIR/k/vmlinux", "dest": "/kernel", "read_only": true } ],
	  "workdir": "/",
	  "env": [ ["RUST_BACKTRACE", "1"] ]
	}
	EOF
	run "$JAILER" --config "$BATS_TEST_TMPDIR/jail.json"
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "kernel" "${lines[0]}"
	assert_eq "$ID" "${lines[1]}"
	assert_eq "1" "${lines[2]}"
	assert_eq "2000" "${lines[3]}"
	[[ ${lines[4]} =~ 512\ +512 ]] || die "${lines[4]}"
	# Command-line options override the file.
	run "$JAILER" --config "$BATS_TEST_TMPDIR/jail.json" --uid 3000 --exec "$BUSYBOX" -- id -u
	assert_eq "3000" "$output"
}

@test "JSON config: unknown keys and wrong types are errors" {
	echo '{"exec_path": "/bin/true", "limts": {}}' > "$BATS_TEST_TMPDIR/bad.json"
	run "$JAILER" --config "$BATS_TEST_TMPDIR/bad.json"
	assert_eq 1 "$status"
	assert_eq "bencher-jailer: $BATS_TEST_TMPDIR/bad.json: limts: unknown key" "$output"
	echo '{"exec_path": "/bin/true", "limits": {"memory_bytes": "512M"}}' > "$BATS_TEST_TMPDIR/bad.json"
	run "$JAILER" --config "$BATS_TEST_TMPDIR/bad.json"
	assert_eq 1 "$status"
	assert_contains "$output" "limits.memory_bytes: expected an integer, got a string"
	echo '{"exec_path": "/bin/true",' > "$BATS_TEST_TMPDIR/bad.json"
	run "$JAILER" --config "$BATS_TEST_TMPDIR/bad.json"
	assert_eq 1 "$status"
	assert_contains "$output" "line"
}

@test "usage errors exit 2" {
	run "$JAILER"
	assert_eq 2 "$status"
	assert_contains "$output" "no program to run"
	run "$JAILER" --cpu lots -- true
	assert_eq 2 "$status"
	run "$JAILER" --bind /a -- true
	assert_eq 2 "$status"
	assert_contains "$output" "--bind /a: expected SRC:DEST[:ro]"
	run "$JAILER" --share pid -- true
	assert_eq 2 "$status"
	run "$JAILER" --help
	assert_eq 0 "$status"
	assert_contains "$output" "--keep-fd N"
}

@test "stats: the figures the cgroup gives" {
	run "${J[@]}" --memory 64M --pids 20 --cpu 1 --stats-out "$BATS_TEST_TMPDIR/s.json" --exec "$PROBER" -- burn 0.2
	[ "$status" -eq 0 ] || die "$output"
	s=$(cat "$BATS_TEST_TMPDIR/s.json")
	assert_contains "$s" "\"cgroup_version\":$(host_cgroup_version)"
	assert_contains "$s" '"memory_max_bytes":67108864'
	assert_contains "$s" '"pids_max":20'
	usage=$(json_field "$BATS_TEST_TMPDIR/s.json" cpu_usage_usec)
	[ "$usage" -ge 200000 ] || die "cpu_usage_usec $usage"
}

@test "--parent-cgroup places the jail below another cgroup" {
	[ "$(host_cgroup_version)" = 1 ] || skip "v2: tests/bats/kvm/jailer-cgroup2.bats"
	for c in cpu cpuacct memory pids; do mkdir -p "/sys/fs/cgroup/$c/bats-parent-$$"; done
	"${J[@]}" --parent-cgroup "/bats-parent-$$" --pids 9 --exec "$BUSYBOX" -- sleep 30 &
	pid=$!
	wait_for test -e "/sys/fs/cgroup/pids/bats-parent-$$/$ID/pids.max"
	max=$(cat "/sys/fs/cgroup/pids/bats-parent-$$/$ID/pids.max")
	kill -TERM "$pid"
	wait "$pid" || true
	assert_eq 9 "$max"
	[ ! -e "/sys/fs/cgroup/pids/bats-parent-$$/$ID" ]
}

@test "a second jail with the same id is refused while the first runs" {
	"${J[@]}" --pids 10 --exec "$BUSYBOX" -- sleep 30 &
	pid=$!
	ctrl=pids
	[ "$(host_cgroup_version)" = 2 ] && ctrl=
	wait_for test -e "$(jail_cg_dir "$ctrl")/cgroup.procs"
	run "${J[@]}" --pids 10 --exec "$PROBER" -- status
	kill -TERM "$pid"
	wait "$pid" || true
	assert_eq 1 "$status"
	assert_contains "$output" "already exists: another jail with id $ID runs"
}

# ---- unprivileged: a user namespace instead of root ----

as_nobody() {
	setpriv --reuid 65534 --regid 65534 --clear-groups "$@"
}

@test "unprivileged: runs in a user namespace, same checks from inside" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	use_public_copies
	run as_nobody "${J[@]}" --no-cgroup --exec "$PROBER" -- status
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "CapEff: 0000000000000000"
	assert_contains "$output" "CapBnd: 0000000000000000"
	assert_contains "$output" "NoNewPrivs: 1"
	assert_contains "$output" "Uid: 65534	65534	65534	65534"
	run as_nobody "${J[@]}" --no-cgroup --exec /bin/ls -- /
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "dev lib lib64 proc" "${lines[*]}"
	run as_nobody "${J[@]}" --no-cgroup --exec "$BUSYBOX" -- sh -c 'kill -TERM $$'
	assert_eq 143 "$status"
}

@test "unprivileged: a limit without a delegated cgroup is explained" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	use_public_copies
	run as_nobody "${J[@]}" --memory 64M --exec "$PROBER" -- status
	assert_eq 1 "$status"
	assert_contains "$output" "Permission denied (no cgroup was delegated to this user"
	assert_contains "$output" "Delegate=yes"
}

@test "unprivileged: /dev/kvm permission is explained" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	use_public_copies
	[ -c /dev/kvm ] || skip "no /dev/kvm"
	as_nobody test -r /dev/kvm && skip "/dev/kvm is open to everyone here"
	run as_nobody "${J[@]}" --no-cgroup --fd /dev/kvm:3 --exec "$PROBER" -- fds
	assert_eq 1 "$status"
	assert_contains "$output" "open /dev/kvm: Permission denied (add this user to the group owning /dev/kvm"
}

@test "unprivileged: limits work in a delegated v1 cgroup" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	use_public_copies
	[ "$(host_cgroup_version)" = 1 ] || skip "v2: tests/bats/kvm/jailer-cgroup2.bats"
	for c in cpu cpuacct memory pids; do
		mkdir -p "/sys/fs/cgroup/$c/bats-parent-$$"
		chown -R 65534:65534 "/sys/fs/cgroup/$c/bats-parent-$$"
	done
	out=$(mktemp -d)
	chmod 777 "$out"
	run as_nobody "${J[@]}" --parent-cgroup "/bats-parent-$$" --pids 8 --memory 32M \
		--stats-out "$out/stats.json" --exec "$PROBER" -- forkbomb 100
	stats=$(cat "$out/stats.json")
	rm -rf "$out"
	[ "$status" -eq 0 ] || die "$output"
	[[ $output =~ forked\ ([0-9]+):\ Resource ]] || die "$output"
	[ "${BASH_REMATCH[1]}" -le 6 ] || die "$output"
	assert_contains "$stats" '"pids_max":8'
	run as_nobody "${J[@]}" --parent-cgroup "/bats-parent-$$" --memory 32M --exec "$PROBER" -- hog 512
	assert_eq 137 "$status"
	[ ! -e "/sys/fs/cgroup/pids/bats-parent-$$/$ID" ]
}

@test "our own bencher-vmm starts in an empty jail" {
	[ -x "$abs_top_builddir/bencher-vmm" ] || skip "bencher-vmm not built"
	run "${J[@]}" --fd /dev/null:3 --exec "$abs_top_builddir/bencher-vmm" -- --help
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "Usage: bencher-vmm"
}
