#!/usr/bin/env bats
# Scenarios: the VM's resources (vCPUs, memory, disk) as the guest sees them,
# output limits, returned files and iterations.

load scenario-helpers

setup_file() { scenario_setup_file; }

@test "multi_cpu: 4 vCPUs are really online in the guest" {
	run_vm --image "$IMAGES:base" --vcpus 4 --cmd sh --cmd -c --cmd 'nproc; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online'
	expect_status 0
	assert_eq "4
4
0-3" "$out"
}

@test "cpu_count_visible: the default is one vCPU, --vcpus 2 gives two" {
	run_vm --image "$IMAGES:base" --cmd nproc
	assert_eq "1" "$out"
	run_vm --image "$IMAGES:base" --vcpus 2 --cmd nproc
	assert_eq "2" "$out"
}

@test "memory_size_visible: --memory sets the guest's RAM" {
	run_vm --image "$IMAGES:base" --memory 256 --cmd sh --cmd -c --cmd 'awk "/MemTotal/ {print int(\$2 / 1024)}" /proc/meminfo'
	expect_status 0
	# MemTotal is the RAM less what the kernel reserves: within 256 MiB and
	# well above half of it.
	[ "$out" -le 256 ] && [ "$out" -ge 200 ] || die "MemTotal $out MiB for --memory 256"
	run_vm --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'awk "/MemTotal/ {print int(\$2 / 1024)}" /proc/meminfo'
	[ "$out" -le 512 ] && [ "$out" -ge 440 ] || die "MemTotal $out MiB for the default 512"
}

@test "disk_size_override: --disk sets the root filesystem's size" {
	run_vm --image "$IMAGES:base" --disk 300M --cmd sh --cmd -c --cmd 'df -m / | awk "NR == 2 {print \$2}"'
	expect_status 0
	[ "$out" -ge 250 ] && [ "$out" -le 300 ] || die "root is $out MiB for --disk 300M"
	run_vm --image "$IMAGES:base" --disk 300M --cmd sh --cmd -c --cmd 'dd if=/dev/zero of=/fill bs=1M count=200 2>/dev/null && echo filled'
	expect_status 0
	assert_eq "filled" "$out"
}

@test "output_flood: a flood is cut at the limit without harming the run" {
	run_vm --image "$IMAGES:base" --max-output-size 1M --cmd sh --cmd -c --cmd 'yes 0123456789abcdef | head -c 20000000; echo done >&2'
	expect_status 0
	assert_eq 1048576 "$(stat -c %s "$BATS_TEST_TMPDIR/out")"
	assert_eq "true" "$(result stdout.truncated)"
	assert_contains "$err" "done"
}

@test "max_output_size_truncation: the limit is exact, and not truncated at it" {
	run_vm --image "$IMAGES:base" --max-output-size 1000 --cmd sh --cmd -c --cmd 'head -c 5000 /dev/zero | tr "\0" x'
	expect_status 0
	assert_eq 1000 "$(stat -c %s "$BATS_TEST_TMPDIR/out")"
	assert_eq "true" "$(result stdout.truncated)"
	run_vm --image "$IMAGES:base" --max-output-size 1000 --cmd sh --cmd -c --cmd 'head -c 1000 /dev/zero | tr "\0" x'
	assert_eq 1000 "$(stat -c %s "$BATS_TEST_TMPDIR/out")"
	assert_eq "false" "$(result stdout.truncated)"
}

@test "file_output: a file the workload writes comes back" {
	cd "$BATS_TEST_TMPDIR"
	run_vm --image "$IMAGES:base" --output /tmp/result.txt --output-dir "$BATS_TEST_TMPDIR/files" \
		--cmd sh --cmd -c --cmd 'echo "benchmark result: 42" > /tmp/result.txt'
	expect_status 0
	assert_eq "benchmark result: 42" "$(cat "$BATS_TEST_TMPDIR/files/tmp/result.txt")"
}

@test "multi_file_output: several files, binary content intact" {
	run_vm --image "$IMAGES:base" --output /out/a.txt --output /out/b.bin --output-dir "$BATS_TEST_TMPDIR/files" \
		--cmd sh --cmd -c --cmd 'mkdir /out && echo alpha > /out/a.txt && printf "\000\377\001" > /out/b.bin'
	expect_status 0
	assert_eq "alpha" "$(cat "$BATS_TEST_TMPDIR/files/out/a.txt")"
	printf '\000\377\001' > "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/files/out/b.bin"
}

@test "missing_file_output: a file that was never written is reported, not fatal" {
	run_vm --image "$IMAGES:base" --output /tmp/never.txt --output-dir "$BATS_TEST_TMPDIR/files" --cmd true
	expect_status 0
	[ ! -e "$BATS_TEST_TMPDIR/files/tmp/never.txt" ]
	assert_eq "missing" "$(jq -r '.files[] | select(.path == "/tmp/never.txt") | .status' "$RESULTS")"
}

@test "multiple_iterations: --iterations runs the workload that many times" {
	run_vm --image "$IMAGES:base" --iterations 3 --cmd sh --cmd -c --cmd 'cat /proc/sys/kernel/random/boot_id'
	expect_status 0
	assert_eq 3 "$(printf '%s\n' "$out" | wc -l)"
	# Three separate boots.
	assert_eq 3 "$(printf '%s\n' "$out" | sort -u | wc -l)"
	assert_eq 3 "$(jq -r '.iterations | length' "$RESULTS")"
	assert_eq 3 "$(grep -c '^---BENCHER_METRICS:' "$BATS_TEST_TMPDIR/err")"
}

@test "multiple_iterations: a failure stops the loop unless --allow-failure" {
	run_vm --image "$IMAGES:base" --iterations 3 --cmd sh --cmd -c --cmd 'echo run; exit 7'
	expect_status 7
	assert_eq "run" "$out"
	run_vm --image "$IMAGES:base" --iterations 3 --allow-failure --cmd sh --cmd -c --cmd 'echo run; exit 7'
	expect_status 7
	assert_eq 3 "$(printf '%s\n' "$out" | wc -l)"
}
