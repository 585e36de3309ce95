#!/usr/bin/env bats
# The results channel in a real VM: collect-results -- bencher-vmm booting
# our kernel with bencher-init as PID 1 (installed by mkrootfs --init) on a
# busybox root. Run by tests/kvm.tap where /dev/kvm works (inside the TCG
# test host here). Every test is one boot; checks share boots where they can.

load ../helpers
load ../collect-results-helpers

setup_file() {
	local root=$BATS_FILE_TMPDIR/root b
	mkdir -p "$root/bin" "$root/etc" "$root/home/bench" "$root/bencher"
	cp "${BUSYBOX:-/bin/busybox}" "$root/bin/busybox"
	for b in $("$root/bin/busybox" --list); do
		[ "$b" = busybox ] || ln -s busybox "$root/bin/$b"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nbench:x:1000:1000:bench:/home/bench:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\nbench:x:1000:\nextra:x:2000:bench\n' >"$root/etc/group"
	# For the serial fallback test: the run config as the runner would place it.
	printf '{"argv": ["sh", "-c", "echo via-serial; echo e >&2; exit 6"]}' >"$BATS_FILE_TMPDIR/serial.json"
	collect-results --config "$BATS_FILE_TMPDIR/serial.json" --encode-config "$root/bencher/run.cfg"
	mkrootfs --init "$abs_top_builddir/bencher-init" --headroom 32M -o "$BATS_FILE_TMPDIR/root.ext4" "$root"
	export ROOTFS=$BATS_FILE_TMPDIR/root.ext4
	export KERNEL=$abs_top_builddir/kernel/vmlinux
}

setup() {
	[ -f "$KERNEL" ] || die "$KERNEL: not built"
	T=$BATS_TEST_TMPDIR
	export T
}

# vm_run [COLLECT-OPTIONS...] [-- VMM-OPTIONS...]: one boot, $T/run.json as
# the run config; stdout in $T/out, stderr in $T/err, status in $status,
# results in $T/results.json, the VMM report in $T/report.json.
vm_run() {
	local copts=() vopts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		copts+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	vopts=("$@")
	status=0
	collect-results --config "$T/run.json" --out "$T/results.json" --vmm-report "$T/report.json" \
		--timeout 120 "${copts[@]}" -- \
		bencher-vmm --kernel "$KERNEL" --rootfs "$ROOTFS" --rootfs-mode cow --memory 256 \
		--report "$T/report.json" --cmdline "panic=-1 init=/bencher/init" --vsock-fd 3 "${vopts[@]}" \
		>"$T/out" 2>"$T/err" || status=$?
	# Shown by bats only when the test fails.
	tail -n 5 "$T/err" >&2
	cat "$T/report.json" >&2 2>/dev/null || true
}

field() { json_get "$T/results.json" "$1"; }

@test "vm: output order, binary bytes, stderr, exit 42, boot time and metrics" {
	run_json "$T/run.json" sh -c 'for i in 1 2 3; do echo out$i; echo err$i >&2; done; printf "\377\000\001end"; exit 42'
	vm_run
	assert_eq 42 "$status" status
	printf 'out1\nout2\nout3\n\377\000\001end' >"$T/expect"
	cmp "$T/expect" "$T/out"
	assert_contains "$(cat "$T/err")" "$(printf 'err1\nerr2\nerr3')"
	assert_contains "$(cat "$T/err")" "[HMAC] verification passed"
	line=$(grep -- '---BENCHER_METRICS:' "$T/err")
	assert_contains "$line" '"transport":"vsock"'
	assert_contains "$line" '"timed_out":false'
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["boot_to_init_ms"] > 0 and d["vmm"]["outcome"] in ("reboot","poweroff"), d' "$T/results.json"
	echo "# boot_to_init_ms $(field 'd["boot_to_init_ms"]'), wall $(field 'd["wall_clock_ms"]') ms" >&3
}

@test "vm: empty output exits 0; stderr only exits 1" {
	run_json "$T/run.json" true
	vm_run
	assert_eq 0 "$status" status
	[ ! -s "$T/out" ] || die "stdout not empty"
	field 'd["wall_clock_ms"]' >"$BATS_FILE_TMPDIR/empty_ms"
	run_json "$T/run.json" sh -c 'echo only-err >&2; exit 1'
	vm_run
	assert_eq 1 "$status" status
	[ ! -s "$T/out" ] || die "stdout not empty"
	assert_contains "$(cat "$T/err")" only-err
}

@test "vm: a 20 MB flood is cut at the limit exactly" {
	run_json "$T/run.json" sh -c 'head -c 20000000 /dev/zero; echo after >&2'
	vm_run --max-output-size 1M
	assert_eq 0 "$status" status
	assert_eq 1048576 "$(wc -c <"$T/out")" "stdout size"
	assert_eq true "$(field 'd["stdout"]["truncated"]')" truncated
	assert_eq 20000000 "$(field 'd["stdout"]["produced"]')" produced
	assert_contains "$(cat "$T/err")" after
}

@test "vm: throughput of 20 MB through the whole chain" {
	run_json "$T/run.json" sh -c 'head -c 20000000 /dev/zero'
	vm_run
	assert_eq 0 "$status" status
	assert_eq 20000000 "$(wc -c <"$T/out")" "stdout size"
	assert_eq passed "$(field 'd["hmac"]')" hmac
	# Against the empty run's wall clock (same boot, no output).
	echo "# 20 MB run: wall $(field 'd["wall_clock_ms"]') ms; empty run: $(cat "$BATS_FILE_TMPDIR/empty_ms" 2>/dev/null) ms" >&3
}

@test "vm: a SIGKILL exit reports 137" {
	run_json "$T/run.json" sh -c 'echo before; kill -KILL $$'
	vm_run
	assert_eq 137 "$status" status
	assert_eq 9 "$(field 'd["signal"]')" signal
	assert_eq before "$(cat "$T/out")" stdout
}

@test "vm: a rapid exit loses nothing" {
	run_json "$T/run.json" sh -c 'seq 1 50000; seq 1 500 >&2'
	vm_run
	assert_eq 0 "$status" status
	assert_eq "$(seq 1 50000 | sha256sum)" "$(sha256sum <"$T/out")" stdout
	assert_contains "$(cat "$T/err")" "$(seq 490 500)"
}

@test "vm: timeout keeps the partial output" {
	run_json "$T/run.json" sh -c 'echo partial; sleep 600'
	vm_run --timeout 20
	assert_eq 124 "$status" status
	assert_eq partial "$(cat "$T/out")" stdout
	assert_eq true "$(field 'd["timed_out"]')" timed_out
	assert_contains "$(cat "$T/err")" '"timed_out":true'
}

@test "vm: SIGTERM cancels within 5 s and keeps the partial output" {
	run_json "$T/run.json" sh -c 'echo partial; sleep 600'
	collect-results --config "$T/run.json" --out "$T/results.json" -- \
		bencher-vmm --kernel "$KERNEL" --rootfs "$ROOTFS" --rootfs-mode cow --memory 256 \
		--cmdline "panic=-1 init=/bencher/init" --vsock-fd 3 >"$T/out" 2>"$T/err" &
	pid=$!
	for _ in $(seq 600); do [ -s "$T/out" ] && break; sleep 0.1; done
	assert_eq partial "$(cat "$T/out")" "stdout before the signal"
	SECONDS=0
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$SECONDS" -le 5 ] || die "took $SECONDS s"
	assert_eq 143 "$status" status
	assert_eq true "$(field 'd["cancelled"]')" cancelled
}

@test "vm: the workload's own connections to 5000 and 5002 are refused and change nothing" {
	run_json "$T/run.json" sh -c 'echo real; echo forged | /bencher/init --connect 5000; echo "0" | /bencher/init --connect 5002; exit 7'
	vm_run
	assert_eq 7 "$status" status
	assert_eq real "$(cat "$T/out")" stdout
	assert_contains "$(cat "$T/err")" "refused guest connection to port 5000"
	assert_contains "$(cat "$T/err")" "refused guest connection to port 5002"
	assert_eq passed "$(field 'd["hmac"]')" hmac
}

@test "vm: a root workload that reads every file it can finds no HMAC key" {
	key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf '%s' "$key" >"$T/key"
	# The key reaches the workload upper-cased (as K), and the file list is
	# made before any process holds the lower-case key in its argv, so the
	# search cannot find itself.
	upper=$(printf '%s' "$key" | tr a-f A-F)
	# shellcheck disable=SC2016
	RUN_EXTRA="\"env\": [\"K=$upper\"]" run_json "$T/run.json" sh -c '
		k=$(echo "$K" | tr A-F a-f)
		(exec 3</proc/1/mem) 2>/dev/null && echo mem-openable
		{ find / -xdev -type f; find /proc /sys /run /tmp /dev/shm -type f; } 2>/dev/null |
			grep -v -e /proc/kmsg -e /task/ -e /sys/power/ >/tmp/.list
		xargs grep -l -s -F -e "$k" </tmp/.list | sed "s/^/key-in /"
		n=$(wc -l </tmp/.list)
		echo "searched $n files"'
	vm_run --hmac-key-file "$T/key" --timeout 300
	assert_eq 0 "$status" status
	assert_contains "$(cat "$T/out")" searched
	case $(cat "$T/out") in *key-in*|*mem-openable*) die "$(cat "$T/out")" ;; esac
	assert_eq passed "$(field 'd["hmac"]')" hmac
	echo "# $(tail -n1 "$T/out")" >&3
}

@test "vm: cgroup placed before exec, User honoured, files returned" {
	# The payload's first read of /proc/self/cgroup names the target cgroup;
	# its status shows the user and groups from the image's passwd/group.
	RUN_EXTRA='"user": "bench", "cgroup": "bench/w", "files": ["/etc/group", "/none"]' \
		run_json "$T/run.json" cat /proc/self/cgroup /proc/self/status
	vm_run --output-dir "$T/files"
	assert_eq 0 "$status" status
	assert_eq "0::/bench/w" "$(head -n1 "$T/out")" "first read of /proc/self/cgroup"
	assert_eq "1000 1000 1000 1000" "$(sed -n 's/^Uid:[[:space:]]*//p' "$T/out" | tr -s '\t ' ' ')" Uid
	assert_eq "1000 2000" "$(sed -n 's/^Groups:[[:space:]]*//p' "$T/out" | tr -s '\t ' ' ' | sed 's/ $//')" Groups
	assert_eq "0000000000000000" "$(sed -n 's/^CapEff:[[:space:]]*//p' "$T/out")" CapEff
	grep -q '^extra:x:2000:bench' "$T/files/etc/group" || die "/etc/group not returned"
	assert_eq missing "$(field 'd["files"][1]["status"]')" missing
}

@test "vm: without vsock, the serial fallback carries the results" {
	cp "$BATS_FILE_TMPDIR/serial.json" "$T/run.json"
	status=0
	collect-results --config "$T/run.json" --out "$T/results.json" --timeout 120 -- \
		bencher-vmm --kernel "$KERNEL" --rootfs "$ROOTFS" --rootfs-mode cow --memory 256 \
		--cmdline "panic=-1 init=/bencher/init" >"$T/out" 2>"$T/err" || status=$?
	assert_eq 6 "$status" status
	assert_eq via-serial "$(cat "$T/out")" stdout
	assert_eq serial "$(field 'd["transport"]')" transport
	assert_eq unavailable "$(field 'd["hmac"]')" hmac
}
