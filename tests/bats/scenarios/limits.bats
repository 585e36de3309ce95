#!/usr/bin/env bats
# Scenarios: timeouts, cancellation, and the metrics and HMAC lines.

load scenario-helpers

setup_file() { scenario_setup_file; }

@test "timeout_handling: a workload past --timeout is stopped and reported" {
	start=$(date +%s)
	run_vm --image "$IMAGES:base" --timeout 10 --cmd sleep --cmd 1000
	elapsed=$(( $(date +%s) - start ))
	expect_status 124
	assert_eq "true" "$(metric timed_out)"
	[ "$elapsed" -lt 60 ] || die "took $elapsed s for a 10 s timeout"
}

@test "timeout_enforced: a process that traps TERM still dies" {
	run_vm --image "$IMAGES:base" --timeout 10 --cmd sh --cmd -c --cmd 'trap "" TERM INT; while :; do sleep 1; done'
	expect_status 124
	assert_eq "true" "$(metric timed_out)"
}

@test "timeout_includes_partial_output: what was printed before the timeout comes back" {
	# --timeout counts from the VM's start: 20 s leaves the boot room on a
	# loaded test host (at 10 s a CI run once timed out before the echo).
	run_vm --image "$IMAGES:base" --timeout 20 --cmd sh --cmd -c --cmd 'echo before-timeout; echo err-before >&2; sleep 1000; echo never'
	expect_status 124
	assert_eq "before-timeout" "$out"
	assert_contains "$err" "err-before"
}

@test "job_cancelled: SIGTERM cancels a running VM cleanly" {
	BENCHER_CACHE_DIR=$BENCHER_CACHE_DIR TMPDIR=$BATS_TEST_TMPDIR \
		bencher-runner run --image "$IMAGES:base" --cmd sh --cmd -c --cmd 'echo started; sleep 1000' \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 1 600); do
		grep -q started "$BATS_TEST_TMPDIR/out" 2>/dev/null && break
		sleep 0.1
	done
	assert_eq "started" "$(cat "$BATS_TEST_TMPDIR/out")"
	start=$(date +%s)
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ $(( $(date +%s) - start )) -le 5 ] || die "cancel took more than 5 s"
	assert_eq 143 "$rc"
	grep -q '"cancelled":true' "$BATS_TEST_TMPDIR/err" || die "metrics do not say cancelled: $(cat "$BATS_TEST_TMPDIR/err")"
	# Nothing left behind: no VMM, no run directory.
	run pgrep -f bencher-vmm
	assert_eq 1 "$status"
	[ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 'bencher-run.*')" ]
}

@test "metrics_output_present: the metrics line is on stderr, valid JSON" {
	run_vm --image "$IMAGES:base" --cmd true
	expect_status 0
	[ "$(grep -c '^---BENCHER_METRICS:{.*}---$' "$BATS_TEST_TMPDIR/err")" -eq 1 ]
	metrics | jq -e 'has("wall_clock_ms") and has("timed_out") and has("transport")'
}

@test "metrics_wall_clock_reasonable: wall clock covers the workload and no more than the run" {
	start=$(date +%s%N)
	run_vm --image "$IMAGES:base" --cmd sleep --cmd 2
	total_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	expect_status 0
	ms=$(metric wall_clock_ms)
	[ "$ms" -ge 2000 ] || die "wall_clock_ms $ms < the workload's 2 s sleep"
	[ "$ms" -le "$total_ms" ] || die "wall_clock_ms $ms > the whole run's $total_ms ms"
}

@test "metrics_timeout_flag: false when the workload finishes in time" {
	run_vm --image "$IMAGES:base" --timeout 60 --cmd true
	expect_status 0
	assert_eq "false" "$(metric timed_out)"
}

@test "hmac_verification_logged: the HMAC check is logged and recorded" {
	run_vm --image "$IMAGES:base" --cmd echo --cmd signed
	expect_status 0
	assert_contains "$err" "[HMAC] verification passed"
	assert_eq "passed" "$(result hmac)"
}

@test "metrics_transport_type: results came over vsock" {
	run_vm --image "$IMAGES:base" --cmd true
	assert_eq "vsock" "$(metric transport)"
}
