#!/usr/bin/env bats
# Quarantined KVM tests: each one here exposed a defect that is not fixed
# yet, and is kept out of the gating suite (tests/kvm.tap) until it is, so it
# cannot hang CI. Run them by hand:
#   KVM_TAP_SUITES=$PWD/tests/bats/kvm-quarantine/vmm-stop.bats tests/kvm.tap
#
# The VMM's stop path while a vCPU is inside KVM_RUN: in two full suite runs
# in the TCG test host (2026-11-22) one case here hung past every timeout
# (the guest-panic case once, the SIGTERM case once; each passed in the other
# runs): bencher-vmm can fail to get a vCPU thread out of KVM_RUN after a
# timeout, a signal or a panic. Clean shutdowns (the guest's own reset) never
# hung. Tracked in issue 6 (bencher-vmm). Each case runs under timeout(1) so
# a hang fails it.

load ../helpers
load ../vmm-helpers

setup_file() { boot_suite_setup_file; }
setup() { boot_suite_setup; }

@test "a guest kernel panic is reported: exit 5, outcome panic" {
	run timeout 300 "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 120 --report "$REPORT" \
		--cmdline "panic=-1 init=/init -- panic"
	assert_eq 5 "$status" "exit status"
	assert_eq panic "$(report_field "$REPORT" outcome)" outcome
}

@test "timeout: the VM is stopped, exit 3, outcome timeout" {
	run timeout 300 "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 3 --report "$REPORT" --cmdline "init=/init -- hang"
	assert_eq 3 "$status" "exit status"
	assert_eq timeout "$(report_field "$REPORT" outcome)" outcome
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
	rc=0
	wait "$pid" || rc=$?
	assert_eq 4 "$rc" "exit status"
	assert_eq cancelled "$(report_field "$REPORT" outcome)" outcome
	assert_contains "$status_file" "$(printf 'Seccomp:\t2')"
	assert_contains "$status_file" "$(printf 'CapEff:\t0000000000000000')"
}
