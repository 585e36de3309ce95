#!/usr/bin/env bats
# Scenarios: running a workload and getting back exactly what it produced.
# Runs in a KVM guest (tests/kvm.tap: directly, or in the TCG test host).

load scenario-helpers

setup_file() { scenario_setup_file; }

@test "basic_execution: echo in the guest reaches stdout" {
	run_vm --image "$IMAGES:base" --cmd echo --cmd "hello from vm"
	expect_status 0
	assert_eq "hello from vm" "$out"
}

@test "environment_variables: the image's ENV reaches the workload" {
	run_vm --image "$IMAGES:env" --cmd sh --cmd -c --cmd 'echo "$GREETING/${EMPTY-unset}/$PATH"'
	expect_status 0
	assert_eq "bonjour///bin" "$out"
}

@test "working_directory: WORKDIR is the workload's cwd" {
	run_vm --image "$IMAGES:wd" --cmd pwd
	expect_status 0
	assert_eq "/srv/app" "$out"
}

@test "exit_code: a non-zero exit code comes back exactly" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'exit 42'
	expect_status 42
	assert_eq 42 "$(result exit_code)"
}

@test "exit_code: zero and one" {
	run_vm --image "$IMAGES:base" --cmd true
	expect_status 0
	run_vm --image "$IMAGES:base" --cmd false
	expect_status 1
}

@test "signal_exit: a signal-killed workload reports 128+signal" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'kill -KILL $$'
	expect_status 137
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'kill -SEGV $$'
	expect_status 139
}

@test "stderr_capture: stdout and stderr stay apart" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'echo to-out; echo to-err >&2; echo more-out'
	expect_status 0
	assert_eq "to-out
more-out" "$out"
	assert_eq "to-err" "$(grep -v -e '^---BENCHER_METRICS:' -e '^\[HMAC\]' "$BATS_TEST_TMPDIR/err")"
}

@test "stderr_only: stderr captured when stdout is empty" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'echo only-err >&2'
	expect_status 0
	assert_eq "" "$out"
	assert_contains "$err" "only-err"
	assert_eq 0 "$(result stdout.bytes)"
}

@test "empty_output: exit 0 with no output at all" {
	run_vm --image "$IMAGES:base" --cmd true
	expect_status 0
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	assert_eq 0 "$(result stdout.bytes)"
	assert_eq 0 "$(result stderr.bytes)"
}

@test "binary_output: non-UTF-8 bytes pass through unchanged" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'printf "\000\001\377\376a\000\n\200"'
	expect_status 0
	printf '\000\001\377\376a\000\n\200' > "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "rapid_exit: output of an instantly exiting process is not lost" {
	run_vm --image "$IMAGES:base" --cmd echo --cmd fast
	expect_status 0
	assert_eq "fast" "$out"
	# A burst just before exit, too.
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'seq 1 20000; exit 3'
	expect_status 3
	assert_eq 20000 "$(printf '%s\n' "$out" | wc -l)"
	assert_eq 20000 "$(printf '%s\n' "$out" | tail -n 1)"
}

@test "unique_output_validation: output comes from the guest, not the runner" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'uname -r; cat /proc/sys/kernel/random/uuid'
	expect_status 0
	guest_release=$(printf '%s\n' "$out" | head -n 1)
	uuid1=$(printf '%s\n' "$out" | tail -n 1)
	# The guest runs our kernel, not the host's.
	[ "$guest_release" != "$(uname -r)" ]
	[[ $guest_release == 6.1.* ]]
	[[ $uuid1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	# Nowhere in the runner's own stderr.
	[[ $err != *"$uuid1"* ]]
	run_vm --image "$IMAGES:base" --cmd cat --cmd /proc/sys/kernel/random/uuid
	[ "$out" != "$uuid1" ]
}

@test "writable_filesystem: the guest can write and read back on its root" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'echo written > /data.txt && cat /data.txt && mkdir -p /var/x && echo ok > /var/x/y && cat /var/x/y'
	expect_status 0
	assert_eq "written
ok" "$out"
}

@test "rootfs_writable: / is mounted read-write" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'awk "\$2 == \"/\" { split(\$4, o, \",\"); print \$3, o[1] }" /proc/mounts'
	expect_status 0
	assert_eq "ext4 rw" "$out"
}

@test "rootfs_writable: writes stay in the run, never reach the cached image" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'echo leak > /leak.txt'
	expect_status 0
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'cat /leak.txt 2>&1 || echo absent'
	assert_contains "$out" "absent"
}

@test "proc_mount_works: /proc and /sys are mounted in the guest" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'test -r /proc/cpuinfo && test -d /sys/class/net && cat /proc/self/comm'
	expect_status 0
	assert_eq "cat" "$out"
}

@test "no_network_access: the guest has no interface but lo" {
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'ls /sys/class/net'
	expect_status 0
	assert_eq "lo" "$out"
}

@test "large_env: many and large environment variables arrive intact" {
	args=()
	for i in $(seq 1 200); do args+=(--env "VAR_$i=value-$i-$(printf '%0100d' "$i")"); done
	big=$(head -c 65536 /dev/zero | tr '\0' 'x')
	args+=(--env "BIG=$big")
	run_vm --image "$IMAGES:base" "${args[@]}" --cmd sh --cmd -c --cmd 'env | grep -c "^VAR_"; printf %s "$BIG" | wc -c; echo "$VAR_200"'
	expect_status 0
	assert_eq "200
65536
value-200-$(printf '%0100d' 200)" "$out"
}
