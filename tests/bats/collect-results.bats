#!/usr/bin/env bats
# collect-results.bats: collect-results and bencher-init end to end in test
# mode (bencher-init as an ordinary process playing the VMM's part of the
# control protocol), so everything above the transport runs without KVM.

load helpers
load collect-results-helpers

setup() {
	T=$(mktemp -d)
	export T
}

teardown() {
	rm -rf "$T"
}

@test "output order and content on stdout and stderr" {
	run_json "$T/run.json" sh -c 'for i in 1 2 3; do echo out$i; echo err$i >&2; done'
	test_pair
	assert_eq 0 "$status" status
	assert_eq "$(printf 'out1\nout2\nout3')" "$(cat "$T/out")" stdout
	assert_contains "$(cat "$T/err")" "$(printf 'err1\nerr2\nerr3')"
	assert_eq 0 "$(json_get "$T/results.json" 'd["exit_code"]')" exit_code
	assert_eq 15 "$(json_get "$T/results.json" 'd["stdout"]["bytes"]')" bytes
	assert_eq vsock "$(json_get "$T/results.json" 'd["transport"]')" transport
}

@test "binary output passes unchanged" {
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256))*64)' >"$T/expect"
	run_json "$T/run.json" cat "$T/expect"
	test_pair
	assert_eq 0 "$status" status
	cmp "$T/expect" "$T/out"
}

@test "empty output" {
	run_json "$T/run.json" true
	test_pair
	assert_eq 0 "$status" status
	[ ! -s "$T/out" ]
	assert_eq 0 "$(json_get "$T/results.json" 'd["stdout"]["bytes"]')" stdout
	assert_eq 0 "$(json_get "$T/results.json" 'd["stderr"]["bytes"]')" stderr
	assert_eq passed "$(json_get "$T/results.json" 'd["hmac"]')" hmac
}

@test "stderr only" {
	run_json "$T/run.json" sh -c 'echo only-err >&2'
	test_pair
	assert_eq 0 "$status" status
	[ ! -s "$T/out" ]
	assert_contains "$(cat "$T/err")" only-err
	assert_eq 9 "$(json_get "$T/results.json" 'd["stderr"]["bytes"]')" stderr
}

@test "a 20 MB flood is cut at the limit exactly, in the guest" {
	run_json "$T/run.json" sh -c 'head -c 20000000 /dev/zero; head -c 3000000 /dev/zero >&2; echo tail >&2'
	test_pair --max-output-size 1M
	assert_eq 0 "$status" status
	assert_eq 1048576 "$(wc -c <"$T/out")" "stdout size"
	assert_eq true "$(json_get "$T/results.json" 'd["stdout"]["truncated"]')" truncated
	assert_eq true "$(json_get "$T/results.json" 'd["truncated"]')" truncated
	assert_eq 20000000 "$(json_get "$T/results.json" 'd["stdout"]["produced"]')" produced
	# init dropped the excess: only the limit crossed the channel
	assert_eq 1048576 "$(json_get "$T/results.json" 'd["stdout"]["received"]')" received
	assert_eq 3000005 "$(json_get "$T/results.json" 'd["stderr"]["produced"]')" stderr
	assert_contains "$(cat "$T/err")" "stdout truncated"
}

@test "exit codes 0, 1, 42 and 137 pass through" {
	for code in 0 1 42; do
		run_json "$T/run.json" sh -c "exit $code"
		test_pair
		assert_eq "$code" "$status" "exit $code"
		assert_eq "$code" "$(json_get "$T/results.json" 'd["exit_code"]')" "json exit $code"
	done
	run_json "$T/run.json" sh -c 'kill -KILL $$'
	test_pair
	assert_eq 137 "$status" "SIGKILL"
	assert_eq 9 "$(json_get "$T/results.json" 'd["signal"]')" signal
}

@test "a signal exit reports 128+signal" {
	run_json "$T/run.json" sh -c 'echo before; kill -TERM $$'
	test_pair
	assert_eq 143 "$status" status
	assert_eq 15 "$(json_get "$T/results.json" 'd["signal"]')" signal
	assert_eq before "$(cat "$T/out")" stdout
}

@test "a rapid exit loses nothing" {
	run_json "$T/run.json" sh -c 'seq 1 200000; seq 1 1000 >&2'
	test_pair
	assert_eq 0 "$status" status
	assert_eq "$(seq 1 200000 | sha256sum)" "$(sha256sum <"$T/out")" stdout
	assert_contains "$(cat "$T/err")" "$(seq 1 1000)"
}

@test "timeout stops the chain and keeps the partial output" {
	run_json "$T/run.json" sh -c 'echo partial; sleep 60'
	SECONDS=0
	test_pair --timeout 1
	assert_eq 124 "$status" status
	[ "$SECONDS" -lt 10 ] || die "took $SECONDS s"
	assert_eq partial "$(cat "$T/out")" stdout
	assert_eq true "$(json_get "$T/results.json" 'd["timed_out"]')" timed_out
	assert_contains "$(cat "$T/err")" '"timed_out":true'
}

@test "SIGTERM cancels within 5 s and keeps the partial output" {
	run_json "$T/run.json" sh -c 'echo partial; exec sleep 60'
	collect-results --config "$T/run.json" --out "$T/results.json" -- \
		bencher-init --test-mode --control-fd 3 >"$T/out" 2>"$T/err" &
	pid=$!
	for _ in $(seq 50); do [ -s "$T/out" ] && break; sleep 0.1; done
	SECONDS=0
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$SECONDS" -le 5 ] || die "took $SECONDS s"
	assert_eq 143 "$status" status
	assert_eq partial "$(cat "$T/out")" stdout
	assert_eq true "$(json_get "$T/results.json" 'd["cancelled"]')" cancelled
	assert_contains "$(cat "$T/err")" '"cancelled":true'
}

@test "a second connection to port 5000 or 5002 is refused and changes nothing" {
	run_json "$T/run.json" sh -c 'echo real; echo forged | "$0" --connect 5000; echo "0" | "$0" --connect 5002; exit 7' \
		"$abs_top_builddir/bencher-init"
	test_pair
	assert_eq 7 "$status" status
	assert_eq real "$(cat "$T/out")" stdout
	assert_contains "$(cat "$T/err")" "refused guest connection to port 5000"
	assert_contains "$(cat "$T/err")" "refused guest connection to port 5002"
	assert_eq 2 "$(json_get "$T/results.json" 'd["refused_connections"]')" refused
	assert_eq passed "$(json_get "$T/results.json" 'd["hmac"]')" hmac
}

@test "a tampered byte fails the HMAC" {
	run_json "$T/run.json" sh -c 'echo hello'
	test_pair -- --test-corrupt 5000
	assert_eq 0 "$status" status
	assert_eq failed "$(json_get "$T/results.json" 'd["hmac"]')" hmac
	assert_contains "$(cat "$T/err")" "[HMAC] verification FAILED"
	test_pair --require-hmac -- --test-corrupt 5002
	assert_eq 121 "$status" "--require-hmac"
	test_pair --require-hmac
	assert_eq 0 "$status" "clean run with --require-hmac"
	assert_contains "$(cat "$T/err")" "[HMAC] verification passed"
}

@test "--no-hmac-notice drops the passed line, never the warning" {
	run_json "$T/run.json" sh -c 'echo hello'
	test_pair --no-hmac-notice
	assert_eq 0 "$status" status
	assert_eq passed "$(json_get "$T/results.json" 'd["hmac"]')" hmac
	case $(cat "$T/err") in *"[HMAC]"*) die "a notice with --no-hmac-notice: $(cat "$T/err")" ;; esac
	test_pair --no-hmac-notice -- --test-corrupt 5000
	assert_contains "$(cat "$T/err")" "[HMAC] verification FAILED"
}

@test "files are returned as base64 and into --output-dir; a missing one is reported" {
	mkdir -p "$T/g/sub"
	printf 'result\0data' >"$T/g/sub/out.bin"
	RUN_EXTRA="\"files\": [\"$T/g/sub/out.bin\", \"$T/g/none\", \"$T/g/empty\"]" \
		run_json "$T/run.json" sh -c ": > $T/g/empty"
	test_pair
	assert_eq 0 "$status" status
	assert_eq "$(base64 -w0 <"$T/g/sub/out.bin")" "$(json_get "$T/results.json" 'd["files"][0]["base64"]')" base64
	assert_eq ok "$(json_get "$T/results.json" 'd["files"][0]["status"]')" status0
	assert_eq missing "$(json_get "$T/results.json" 'd["files"][1]["status"]')" status1
	assert_eq 0 "$(json_get "$T/results.json" 'd["files"][2]["size"]')" empty
	assert_contains "$(cat "$T/err")" "missing"
	test_pair --output-dir "$T/o"
	assert_eq 0 "$status" status
	cmp "$T/g/sub/out.bin" "$T/o$T/g/sub/out.bin"
	[ -f "$T/o$T/g/empty" ] && [ ! -s "$T/o$T/g/empty" ]
	[ -z "$(find "$T/o" -name '*.part')" ] || die "temp files left"
}

@test "a file over the limit is reported, not sent" {
	head -c 5000 /dev/zero >"$T/big"
	RUN_EXTRA="\"files\": [\"$T/big\"]" run_json "$T/run.json" true
	test_pair --max-file-size 4K
	assert_eq 0 "$status" status
	assert_eq too_large "$(json_get "$T/results.json" 'd["files"][0]["status"]')" status
	assert_eq 5000 "$(json_get "$T/results.json" 'd["files"][0]["size"]')" size
}

@test "exec failures report 127 and 126" {
	run_json "$T/run.json" /nonexistent/cmd
	test_pair
	assert_eq 127 "$status" "not found"
	assert_contains "$(cat "$T/err")" "No such file"
	printf 'x\n' >"$T/noexec"
	chmod 644 "$T/noexec"
	run_json "$T/run.json" "$T/noexec"
	test_pair
	assert_eq 126 "$status" "not executable"
}

@test "env and working directory reach the workload" {
	RUN_EXTRA='"env": ["FOO=bar baz"], "workdir": "/tmp"' run_json "$T/run.json" sh -c 'echo "$FOO"; pwd'
	test_pair
	assert_eq 0 "$status" status
	assert_eq "$(printf 'bar baz\n/tmp')" "$(cat "$T/out")" stdout
	RUN_EXTRA='"workdir": "/nonexistent-dir"' run_json "$T/run.json" true
	test_pair
	assert_eq 125 "$status" "bad workdir"
}

@test "the serial fallback carries output, exit code and files" {
	printf 'filedata' >"$T/f"
	RUN_EXTRA="\"files\": [\"$T/f\"]" run_json "$T/run.json" sh -c 'echo via-serial; head -c 3000 /dev/zero; echo e >&2; exit 5'
	collect-results --config "$T/run.json" --encode-config "$T/run.cfg"
	test_pair --console-log "$T/console" -- --serial --config-file "$T/run.cfg"
	assert_eq 5 "$status" status
	assert_eq 3011 "$(wc -c <"$T/out")" stdout
	assert_eq serial "$(json_get "$T/results.json" 'd["transport"]')" transport
	assert_eq unavailable "$(json_get "$T/results.json" 'd["hmac"]')" hmac
	assert_eq "$(printf filedata | base64)" "$(json_get "$T/results.json" 'd["files"][0]["base64"]')" file
	assert_contains "$(cat "$T/err")" '"transport":"serial"'
	assert_contains "$(cat "$T/err")" "[HMAC] unavailable"
}

@test "metrics line, VMM report and cgroup figures" {
	run_json "$T/run.json" true
	echo '{"outcome":"reboot","exit_code":0,"boot_to_init_ms":123.5,"run_ms":400,"console_bytes":0}' >"$T/vmm.json"
	echo '{"cgroup_version":2,"memory_peak_bytes":1048576,"cpu_usage_usec":777}' >"$T/stats.json"
	test_pair --vmm-report "$T/vmm.json" --cgroup-stats "$T/stats.json"
	assert_eq 0 "$status" status
	line=$(grep -- '---BENCHER_METRICS:' "$T/err")
	assert_contains "$line" '"wall_clock_ms":'
	assert_contains "$line" '"timed_out":false'
	assert_contains "$line" '"cancelled":false'
	assert_contains "$line" '"transport":"vsock"'
	assert_contains "$line" '"memory_peak_bytes":1048576'
	assert_eq 123.5 "$(json_get "$T/results.json" 'd["boot_to_init_ms"]')" boot
	assert_eq 777 "$(json_get "$T/results.json" 'd["cgroup"]["cpu_usage_usec"]')" cpu
}

@test "figures copied from the VMM report are rounded to whole microseconds" {
	run_json "$T/run.json" true
	echo '{"outcome":"reboot","exit_code":0,"boot_to_init_ms":2421.7497990000002,"run_ms":3000.0001}' >"$T/vmm.json"
	test_pair --vmm-report "$T/vmm.json"
	assert_eq 0 "$status" status
	grep -q -- '---BENCHER_METRICS:.*"boot_to_init_ms":2421.75[,}]' "$T/err" || die "metrics: $(cat "$T/err")"
	assert_eq 2421.75 "$(json_get "$T/results.json" 'd["boot_to_init_ms"]')" boot
	assert_eq 3000 "$(json_get "$T/results.json" 'd["vmm"]["run_ms"]')" run_ms
	grep -q '2421.75,$' "$T/results.json" || die "not rounded: $(grep boot_to_init "$T/results.json")"
}

@test "the runner's stage times: given with --started-at, measured by collect-results" {
	run_json "$T/run.json" sh -c 'sleep 0.3'
	started=$(( ${EPOCHREALTIME/./} - 2000000 ))
	test_pair --cache-hit no --prepare-ms 500 --started-at "$started"
	assert_eq 0 "$status" status
	assert_eq false "$(json_get "$T/results.json" 'd["runner"]["cache_hit"]')" cache_hit
	assert_eq 500 "$(json_get "$T/results.json" 'd["runner"]["prepare_ms"]')" prepare_ms
	python3 - "$T/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["runner"]
keys = ["cache_hit", "prepare_ms", "setup_ms", "chain_ms", "total_ms", "boot_to_init_ms", "workload_ms", "teardown_ms"]
assert list(r) == keys, r
for k in keys[1:]:
    assert type(r[k]) is int and r[k] >= 0, (k, r)
# we started 2 s after --started-at, 0.5 s of which were preparation
assert 1500 <= r["setup_ms"] < 10000, r
assert r["total_ms"] >= r["chain_ms"] + 2000, r
assert r["workload_ms"] >= 300, r
assert r["boot_to_init_ms"] + r["workload_ms"] + r["teardown_ms"] <= r["chain_ms"], r
PY
	line=$(grep -- '---BENCHER_METRICS:' "$T/err")
	assert_contains "$line" '"runner":{"cache_hit":false,"prepare_ms":500,"setup_ms":'
	assert_contains "$line" '"workload_ms":'
	test_pair --cache-hit yes
	assert_eq true "$(json_get "$T/results.json" 'd["runner"]["cache_hit"]')" "cache_hit alone"
	assert_eq null "$(json_get "$T/results.json" 'd["runner"]["total_ms"]')" "total_ms without --started-at"
	test_pair
	assert_eq false "$(json_get "$T/results.json" '"runner" in d')" "no runner object without the options"
	case $(grep -- '---BENCHER_METRICS:' "$T/err") in *'"runner"'*) die "runner in the metrics line" ;; esac
	test_pair --cache-hit maybe
	assert_eq 2 "$status" "bad --cache-hit"
}

@test "--merge writes the iterations shape, and writes nothing from bad input" {
	run_json "$T/run.json" true
	test_pair --cache-hit no --prepare-ms 812 --started-at "${EPOCHREALTIME/./}"
	mv "$T/results.json" "$T/r1.json"
	run_json "$T/run.json" sh -c 'exit 3'
	test_pair --cache-hit yes --prepare-ms 0 --started-at "${EPOCHREALTIME/./}"
	mv "$T/results.json" "$T/r2.json"
	collect-results --merge --out "$T/all.json" "$T/r1.json" "$T/r2.json"
	python3 - "$T/all.json" "$T/r1.json" "$T/r2.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert list(m) == ["iterations", "exit_code", "prepare_ms"], m
assert m["iterations"] == [json.load(open(p)) for p in sys.argv[2:]]
assert m["exit_code"] == 3 and m["prepare_ms"] == 812, m
PY
	echo '[1]' >"$T/bad.json"
	for bad in "$T/bad.json" "$T/none.json"; do
		status=0
		collect-results --merge --out "$T/m.json" "$T/r1.json" "$bad" 2>"$T/err" || status=$?
		assert_eq 1 "$status" "merge of $bad"
		assert_contains "$(cat "$T/err")" "$bad"
		[ ! -e "$T/m.json" ] || die "wrote $T/m.json from bad input"
	done
	status=0
	collect-results --merge "$T/r1.json" 2>"$T/err" || status=$?
	assert_eq 2 "$status" "--merge without --out"
}

@test "runner-level failures have their own exit codes" {
	run_json "$T/run.json" true
	status=0
	collect-results --config "$T/run.json" --no-metrics -- false 2>"$T/err" || status=$?
	assert_eq 122 "$status" "COMMAND failed"
	status=0
	collect-results --config "$T/run.json" --no-metrics -- true 2>"$T/err" || status=$?
	assert_eq 123 "$status" "no exit code"
	assert_contains "$(cat "$T/err")" "no exit code"
	status=0
	collect-results --config "$T/run.json" --out "$T/r.json" -- /nonexistent/vmm 2>"$T/err" || status=$?
	assert_eq 122 "$status" "COMMAND missing"
	assert_eq null "$(json_get "$T/r.json" 'd["exit_code"]')" exit_code
}

@test "the outcome tells a workload's own 125 from a runner failure" {
	outcome() { json_get "$1" 'd["outcome"]'; }
	run_json "$T/run.json" sh -c 'exit 125'
	test_pair
	assert_eq 125 "$status" status
	assert_eq failed "$(outcome "$T/results.json")" "workload's 125"
	RUN_EXTRA='"workdir": "/nonexistent-dir"' run_json "$T/run.json" true
	test_pair
	assert_eq 125 "$status" "init's 125"
	assert_eq failed "$(outcome "$T/results.json")" "init's 125"
	run_json "$T/run.json" true
	test_pair
	assert_eq passed "$(outcome "$T/results.json")" passed
	assert_contains "$(grep -- '---BENCHER_METRICS:' "$T/err")" '"outcome":"passed"'
	run_json "$T/run.json" echo hello
	test_pair -- --test-corrupt 5000
	assert_eq integrity_failed "$(outcome "$T/results.json")" tampered
	status=0
	collect-results --config "$T/run.json" --out "$T/r.json" -- false 2>"$T/err" || status=$?
	assert_eq 122 "$status" "COMMAND failed"
	assert_eq vmm_error "$(outcome "$T/r.json")" "COMMAND failed"
	status=0
	collect-results --config "$T/run.json" --out "$T/r.json" -- /nonexistent/vmm 2>"$T/err" || status=$?
	assert_eq runner_error "$(outcome "$T/r.json")" "COMMAND missing"
	echo '{"outcome":"panic","exit_code":5,"boot_to_init_ms":null}' >"$T/vmm.json"
	status=0
	collect-results --config "$T/run.json" --out "$T/r.json" --vmm-report "$T/vmm.json" -- sh -c 'exit 5' \
		2>"$T/err" || status=$?
	assert_eq 122 "$status" "guest panic"
	assert_eq guest_panic "$(outcome "$T/r.json")" "guest panic"
	run_json "$T/run.json" sleep 60
	test_pair --timeout 0.5
	assert_eq timed_out "$(outcome "$T/results.json")" timeout
}

@test "usage errors and bad run configs" {
	status=0
	collect-results -- true 2>"$T/err" || status=$?
	assert_eq 2 "$status" "no --config"
	echo '{"argv": []}' >"$T/bad.json"
	status=0
	collect-results --config "$T/bad.json" -- true 2>"$T/err" || status=$?
	assert_eq 1 "$status" "empty argv"
	assert_contains "$(cat "$T/err")" "argv: empty"
	echo '{"argv": ["x"], "files": ["../etc/passwd"]}' >"$T/bad.json"
	status=0
	collect-results --config "$T/bad.json" -- true 2>"$T/err" || status=$?
	assert_eq 1 "$status" "relative file"
	echo '{"argv": ["x"], "bogus": 1}' >"$T/bad.json"
	status=0
	collect-results --config "$T/bad.json" -- true 2>"$T/err" || status=$?
	assert_eq 1 "$status" "unknown key"
	status=0
	bencher-init 2>"$T/err" || status=$?
	assert_eq 2 "$status" "init outside a guest"
}

@test "User is resolved from /etc/passwd (needs root)" {
	[ "$(id -u)" = 0 ] || skip "not root"
	getent passwd nobody >/dev/null || skip "no nobody user"
	RUN_EXTRA='"user": "nobody"' run_json "$T/run.json" sh -c 'id -u; id -g'
	test_pair
	assert_eq 0 "$status" status
	assert_eq "$(printf '%s\n%s' "$(id -u nobody)" "$(id -g nobody)")" "$(cat "$T/out")" ids
	RUN_EXTRA='"user": "no-such-user-x"' run_json "$T/run.json" true
	test_pair
	assert_eq 125 "$status" "unknown user"
	assert_contains "$(cat "$T/err")" "no such user"
}

@test "the workload cannot reach init's memory (the HMAC key)" {
	key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf '%s' "$key" >"$T/key"
	# shellcheck disable=SC2016
	RUN_EXTRA="\"env\": [\"K=$key\"]" run_json "$T/run.json" sh -c '
		(exec 3</proc/$PPID/mem) 2>/dev/null && echo mem-openable
		for f in environ cmdline maps status; do
			grep -q -F "$K" /proc/$PPID/$f 2>/dev/null && echo "key-in-$f"
		done
		bnd=$(sed -n "s/^CapBnd:\t//p" /proc/self/status)
		[ $(( 0x$bnd >> 19 & 1 )) = 0 ] || echo has-sys-ptrace
		echo checked'
	test_pair --hmac-key-file "$T/key"
	assert_eq 0 "$status" status
	if [ "$(id -u)" = 0 ]; then
		assert_eq checked "$(cat "$T/out")" "what the workload could reach"
	else
		assert_contains "$(cat "$T/out")" checked
		case $(cat "$T/out") in *mem-openable*|*key-in*) die "init's memory is readable" ;; esac
	fi
	assert_eq passed "$(json_get "$T/results.json" 'd["hmac"]')" hmac
}
