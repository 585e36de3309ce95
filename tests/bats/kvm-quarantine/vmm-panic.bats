#!/usr/bin/env bats
# Quarantined KVM tests: each one here exposed a defect that is not fixed
# yet, and is kept out of the gating suite (tests/kvm.tap) until it is, so it
# cannot hang CI. Run them by hand:
#   KVM_TAP_SUITES=$PWD/tests/bats/kvm-quarantine/vmm-panic.bats tests/kvm.tap
#
# vmm-panic: in a full suite run in the TCG test host (2026-11-22) the guest
# panic case hung for over 8 minutes although bencher-vmm runs with
# --timeout 120; it passed in two earlier runs. Something in the panic/reset
# path can block the VMM's event loop or a vCPU thread past the timeout.
# Tracked in issue 6 (bencher-vmm).

load ../helpers
load ../vmm-helpers

setup_file() {
	export ROOTFS_TEMPLATE=$BATS_FILE_TMPDIR/template.ext4
	make_rootfs "$ROOTFS_TEMPLATE"
}

setup() {
	[ -f "$KERNEL" ] || die "$KERNEL: not built"
	[ -x "$GUEST_INIT" ] || die "$GUEST_INIT: not built"
	ROOTFS=$BATS_TEST_TMPDIR/root.ext4
	cp "$ROOTFS_TEMPLATE" "$ROOTFS"
	REPORT=$BATS_TEST_TMPDIR/report.json
}

@test "a guest kernel panic is reported: exit 5, outcome panic" {
	run timeout 300 "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 120 --report "$REPORT" \
		--cmdline "panic=-1 init=/init -- panic"
	assert_eq 5 "$status" "exit status"
	assert_eq panic "$(report_field "$REPORT" outcome)" outcome
}
