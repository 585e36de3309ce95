#!/usr/bin/env bats
# vmhost: the KVM test host (tests/vmhost/run) and the probe (tests/kvm-probe)
# as a user sees them, from the host. Each boot of the TCG test host costs
# about 10 s, so a case asserts as much as one boot can show.

load helpers

setup() {
	vmhost=$abs_top_srcdir/tests/vmhost/run
	probe=$abs_top_srcdir/tests/kvm-probe
	tmp=$BATS_TEST_TMPDIR
}

@test "vmhost: COMMAND sees a working /dev/kvm and the Debian kernel; exit 0" {
	run "$vmhost" --print-kernel
	[ "$status" -eq 0 ] || die "$output"
	local kver
	kver=$(basename "$output")
	kver=${kver#vmlinuz-}
	[[ $kver =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-amd64$ ]] || die "not a Debian kernel: $output"
	run "$vmhost" -- sh -c 'test -c /dev/kvm && uname -r'
	[ "$status" -eq 0 ] || die "exit $status: $output"
	assert_eq "$kver" "$output" "uname -r in the test host"
}

@test "vmhost: COMMAND's exit status comes back (false: 1)" {
	run "$vmhost" -- false
	[ "$status" -eq 1 ] || die "exit $status: $output"
}

@test "vmhost: --timeout kills a hung COMMAND with exit 124 in about that time" {
	local start=$SECONDS
	run "$vmhost" --timeout 20 -- sleep 1000
	local took=$((SECONDS - start))
	assert_eq 124 "$status" "exit status"
	assert_contains "$output" "timeout"
	[ "$took" -ge 19 ] && [ "$took" -le 40 ] || die "took $took s for a 20 s timeout"
}

@test "vmhost: --idle-timeout kills a silent COMMAND early; one that writes runs on" {
	local start=$SECONDS
	run "$vmhost" --timeout 300 --idle-timeout 30 -- sleep 1000
	local took=$((SECONDS - start))
	assert_eq 124 "$status" "exit status"
	assert_contains "$output" "no output from the test host for 30 s"
	[ "$took" -le 80 ] || die "took $took s for a 30 s idle timeout"
	# Ticking every 4 s for 40 s outlives a 30 s idle limit (the boot,
	# silent, counts too).
	run "$vmhost" --timeout 300 --idle-timeout 30 -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do echo tick; sleep 4; done'
	assert_eq 0 "$status" "exit status of a ticking command"
}

@test "vmhost: shares, cwd, environment and argv pass through; other writes stay inside" {
	mkdir -p "$tmp/share/sub" "$tmp/outside"
	cd "$tmp/share/sub"
	local odd="it's \"odd\" \$x
two lines"
	# shellcheck disable=SC2016 # expanded inside the test host
	VMHOST_ODD=$odd run "$vmhost" --share "$tmp/share" -- bash -c '
		pwd
		printf "%s|" "$@"; echo
		[ "$VMHOST_ODD" = "$(cat "$1")" ] && echo env-ok
		echo hello >'"$tmp"'/share/sub/back
		echo lost >'"$tmp"'/outside/lost
		id -u
		stat -fc %T /sys/fs/cgroup
		echo to-stderr >&2
		exit 7' argv0 "$tmp/odd" "two words" ""
	[ "$status" -eq 7 ] || die "exit $status: $output"
	assert_contains "$output" "$tmp/share/sub"
	assert_contains "$output" "$tmp/odd|two words||"
	assert_contains "$output" "to-stderr"
	assert_contains "$output" "cgroup2fs"
	assert_eq hello "$(cat "$tmp/share/sub/back")" "file written in the share"
	[ ! -e "$tmp/outside/lost" ] || die "a write outside the share reached the host"
}

@test "vmhost: a kernel panic in the test host is exit 122, not a hang" {
	run "$vmhost" --timeout 300 -- sh -c 'echo c >/proc/sysrq-trigger; sleep 1000'
	assert_eq 122 "$status" "exit status"
	assert_contains "$output" "panic"
}

@test "vmhost: a missing qemu is exit 121 with a clear message" {
	# A PATH with everything in /usr/bin except QEMU.
	mkdir "$tmp/bin"
	for f in /usr/bin/*; do
		case ${f##*/} in qemu-system-*) continue ;; esac
		ln -s "$f" "$tmp/bin/"
	done
	PATH=$tmp/bin run "$vmhost" -- true
	assert_eq 121 "$status" "exit status"
	assert_contains "$output" "qemu-system-x86_64: not found"
	run "$vmhost" --qemu /nonexistent/qemu -- true
	assert_eq 121 "$status" "exit status"
}

@test "vmhost: bad usage is exit 123 without a boot" {
	run "$vmhost" --memory lots -- true
	assert_eq 123 "$status" "--memory lots"
	run "$vmhost" --frobnicate -- true
	assert_eq 123 "$status" "unknown option"
	run "$vmhost" --idle-timeout soon -- true
	assert_eq 123 "$status" "--idle-timeout soon"
	run "$vmhost"
	assert_eq 123 "$status" "no command"
	run "$vmhost" --share / -- true
	assert_eq 123 "$status" "--share /"
}

@test "kvm-probe: answers yes or no with a reason (here: no, for PVM)" {
	run "$probe" --timeout 300
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || die "exit $status: $output"
	[[ $output =~ ^(yes|no):\ .+ ]] || die "not an answer: $output"
	if [ -e /sys/module/kvm_pvm ] || grep -qs '^kvm_pvm ' /proc/modules; then
		assert_eq 1 "$status" "exit status on a PVM host"
		assert_contains "$output" "no: KVM emulation failure"
		assert_contains "$output" "PVM"
	fi
}

@test "kvm-probe: bad usage is exit 2" {
	run "$probe" --vmm firecracker
	assert_eq 2 "$status" "--vmm firecracker"
}
