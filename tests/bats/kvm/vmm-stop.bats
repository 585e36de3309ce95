#!/usr/bin/env bats
# The VMM's stop path while the guest runs: timeout, SIGTERM and a guest
# panic (all vCPUs must be kicked out of KVM_RUN). In the TCG test host these
# once hung the whole run: that was the test host freezing (QEMU's nested SVM
# with two or more test host CPUs; the test host now has one), and the VMM
# now gives every vCPU 5 s to stop and then exits without it. Each case runs
# under a time limit so a hang fails it.

load ../helpers
load ../vmm-helpers

setup_file() { boot_suite_setup_file; }
setup() { boot_suite_setup; }

@test "a guest kernel panic is reported: exit 5, outcome panic" {
	run timeout -k 10 300 "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 120 --report "$REPORT" \
		--cmdline "panic=-1 init=/init -- panic"
	assert_eq 5 "$status" "exit status"
	assert_eq panic "$(report_field "$REPORT" outcome)" outcome
}

@test "timeout: the VM is stopped, exit 3, outcome timeout" {
	run timeout -k 10 300 "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 8 --report "$REPORT" --cmdline "init=/init -- hang"
	assert_eq 3 "$status" "exit status"
	assert_eq timeout "$(report_field "$REPORT" outcome)" outcome
	# The devices' state comes with it: the block device (id 2) idle, every
	# request it was given answered.
	blk=$(jq -r '.devices[] | select(startswith("virtio device 2:"))' "$REPORT")
	[[ $blk =~ q0\ avail\ ([0-9]+)\ taken\ ([0-9]+).*used\ ([0-9]+)\ given\ ([0-9]+) ]] || die "no queue state: $blk"
	assert_eq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "blk requests taken"
	assert_eq "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "blk requests answered"
	[ "${BASH_REMATCH[1]}" -gt 0 ] || die "the guest never used its disk: $blk"
}

@test "SIGTERM stops the VM cleanly: exit 4, outcome cancelled; seccomp and no capabilities while it runs" {
	"$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 120 --report "$REPORT" \
		--cmdline "init=/init -- marker hang" > "$BATS_TEST_TMPDIR/console" &
	pid=$!
	for _ in $(seq 600); do
		grep -q BENCHER-TEST-MARKER "$BATS_TEST_TMPDIR/console" && break
		sleep 0.1
	done
	grep -q BENCHER-TEST-MARKER "$BATS_TEST_TMPDIR/console" || die "guest did not start"
	status_file=$(cat "/proc/$pid/status")
	kill -TERM "$pid"
	for _ in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		die "bencher-vmm still runs 60 s after SIGTERM"
	fi
	rc=0
	wait "$pid" || rc=$?
	assert_eq 4 "$rc" "exit status"
	assert_eq cancelled "$(report_field "$REPORT" outcome)" outcome
	assert_contains "$status_file" "$(printf 'Seccomp:\t2')"
	assert_contains "$status_file" "$(printf 'CapEff:\t0000000000000000')"
}
