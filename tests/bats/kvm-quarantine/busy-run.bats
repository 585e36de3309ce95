#!/usr/bin/env bats
# Quarantined KVM scenario: kept out of the gating suite (tests/kvm.tap)
# until the defect it exposed is found. Run it by hand:
#   KVM_TAP_SUITES=$PWD/tests/bats/kvm-quarantine/busy-run.bats tests/kvm.tap
#
# In one of two full suite runs in the TCG test host (CI, 2026-11-22) this
# 2-vCPU run (64 MB written and synced, then 100000 lines on stderr) hit the
# runner's 300 s timeout, with nothing of stderr received; it takes 17-20 s
# and passed 10 times of 10 run alone, with and without a CPU hog beside
# the test host. Suspects: the virtio-blk or vsock notification paths under
# load (a lost interrupt or credit update). Tracked in issue 6.
#
# 2026-11-23, after the vsock fixes (no control packet dropped, credit
# requests without ping-pong, a locked event loop) and the boot changes:
# 18 runs in a loop with a CPU hog beside the test host, once at the end of
# the whole KVM suite, and once in its original place (the isolation
# scenarios' setup, after 78 other cases): all passed. Not reproduced, so
# not understood: it stays here until full runs keep passing. A timed-out
# run's report now names each virtio queue's state (report "devices").

load ../scenarios/scenario-helpers

setup_file() { scenario_setup_file; }

@test "busy run: 2 vCPUs, 64 MB written and synced, 100000 lines on stderr" {
	local i
	for i in 1 2 3; do
		run_vm --image "$IMAGES:base" --vcpus 2 --timeout 120 --keep \
			--cmd sh --cmd -c --cmd 'echo up; dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null; echo written; sync; echo synced; seq 1 100000 >&2; echo done'
		expect_status 0
		assert_eq "up
written
synced
done" "$out" "stdout of run $i"
		assert_eq 100000 "$(grep -c '^[0-9]' "$BATS_TEST_TMPDIR/err")" "stderr lines of run $i"
	done
}
