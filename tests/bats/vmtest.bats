#!/usr/bin/env bats
# bencher-vmtest as a user sees it where no VM boots: the command line, the
# vmtest.toml refusals with their exact messages, a missing kernel (the
# machinery code, 69), the TAP and JUnit reports read by prove and xmllint,
# and --check-kernel. Runs that boot are tests/bats/kvm/vmtest.bats.

load helpers

setup() {
	export TMPDIR=$BATS_TEST_TMPDIR
	cd "$BATS_TEST_TMPDIR" || return 1
}

# toml TEXT...: ./vmtest.toml from the lines given.
toml() { printf '%s\n' "$@" > vmtest.toml; }

target() { printf '[[target]]\nname = "%s"\nkernel = "%s"\ncommand = "true"\n' "$1" "$2"; }

@test "--help, --version and usage errors (exit 2)" {
	run bencher-vmtest --help
	assert_eq 0 "$status"
	assert_contains "$output" "Usage: bencher-vmtest -k KERNEL [--kargs STR] [-r ROOTFS_DIR] [OPTIONS] -- COMMAND..."
	for o in --kernel --kargs --rootfs --config --filter --modules --format --check-kernel; do
		assert_contains "$output" "$o"
	done
	run bencher-vmtest --version
	assert_eq 0 "$status"
	[[ $output == "bencher-vmtest (bencher-runner) "* ]]
	run bencher-vmtest -k /boot/k
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: -k: no COMMAND given (try --help)" "$output"
	run bencher-vmtest -k /boot/k -c x.toml -- true
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: -k and -c exclude each other (try --help)" "$output"
	run bencher-vmtest --kargs quiet
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: --kargs needs -k (try --help)" "$output"
	run bencher-vmtest --format xml
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: --format: expected text, tap or junit, got 'xml' (try --help)" "$output"
	run bencher-vmtest -f '('
	assert_eq 2 "$status"
	assert_contains "$output" "bencher-vmtest: -f: '(': not a regular expression"
}

@test "no vmtest.toml here is a usage error naming the file" {
	run bencher-vmtest
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: $BATS_TEST_TMPDIR/vmtest.toml: No such file or directory" "$output"
}

@test "vmtest.toml: what needs QEMU is refused by name, with its place" {
	toml "$(target t k)" 'image = "disk.qcow2"'
	run bencher-vmtest
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: $PWD/vmtest.toml:5:1: target[0].image: not supported: bencher-vmtest boots a kernel, not a disk image" "$output"
	toml "$(target t k)" 'uefi = true'
	run bencher-vmtest
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: $PWD/vmtest.toml:5:1: target[0].uefi: not supported: bencher-vmtest boots the kernel directly, without firmware" "$output"
	toml "$(target t k)" 'arch = "aarch64"'
	run bencher-vmtest
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: $PWD/vmtest.toml:5:8: target[0].arch: 'aarch64': only x86_64 is supported" "$output"
	toml "$(target t k)" '[target.vm]' 'extra_args = ["-s"]'
	run bencher-vmtest
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: $PWD/vmtest.toml:6:1: target[0].vm.extra_args: not supported: these are QEMU arguments" "$output"
	toml "$(target t k)" 'kernal = "typo"'
	run bencher-vmtest
	assert_eq 2 "$status"
	assert_eq "bencher-vmtest: $PWD/vmtest.toml:5:1: target[0].kernal: unknown key" "$output"
	toml '[[target]]' 'name = "unterminated'
	run bencher-vmtest -c vmtest.toml
	assert_eq 2 "$status"
	[[ $output == "bencher-vmtest: $PWD/vmtest.toml:2:"* ]] || die "$output"
}

@test "a missing kernel is the machinery's failure: 69 for the one-liner" {
	run bencher-vmtest -k "$PWD/no-such-kernel" -- true
	assert_eq 69 "$status"
	assert_eq "FAIL no-such-kernel: kernel $PWD/no-such-kernel: No such file or directory" "$output"
}

@test "a config file's status is the number of failed targets; -f picks targets" {
	toml "$(target one missing1)" "$(target two missing2)" "$(target three missing3)"
	run bencher-vmtest
	assert_eq 3 "$status"
	assert_eq "FAIL one: kernel $PWD/missing1: No such file or directory
FAIL two: kernel $PWD/missing2: No such file or directory
FAIL three: kernel $PWD/missing3: No such file or directory" "$output"
	run bencher-vmtest -f '^t'
	assert_eq 2 "$status"
	assert_eq "FAIL two: kernel $PWD/missing2: No such file or directory
FAIL three: kernel $PWD/missing3: No such file or directory" "$output"
	run bencher-vmtest -f nothing
	assert_eq 0 "$status"
	assert_eq "" "$output"
}

@test "--format tap is read by prove" {
	toml "$(target 'one # hash' missing1)" "$(target two missing2)"
	bencher-vmtest --format tap > report.tap 2>/dev/null || true
	assert_eq "TAP version 13
1..2
not ok 1 - one \\# hash
# kernel $PWD/missing1: No such file or directory
not ok 2 - two
# kernel $PWD/missing2: No such file or directory" "$(cat report.tap)"
	run prove --exec cat report.tap
	assert_eq 1 "$status"
	assert_contains "$output" "Failed 2/2 subtests"
}

@test "--format junit is valid against the JUnit schema" {
	toml '[[target]]' "name = 'a <b> & \"c\"'" 'kernel = "missing1"' 'command = "true"'
	run bencher-vmtest --format junit
	assert_eq 1 "$status"
	bencher-vmtest --format junit > report.xml 2>/dev/null || true
	run xmllint --noout --schema "$abs_top_srcdir/tests/vmtest/junit.xsd" report.xml
	assert_eq 0 "$status"
	run xmllint --xpath 'string(/testsuites/testsuite/testcase/@name)' report.xml
	assert_eq 'a <b> & "c"' "$output"
	run xmllint --xpath 'string(/testsuites/testsuite/@failures)' report.xml
	assert_eq 1 "$output"
	run xmllint --xpath 'string(//failure/@message)' report.xml
	assert_eq "kernel $PWD/missing1: No such file or directory" "$output"
}

@test "--check-kernel: a file that is no kernel is 69; our kernel lacks nothing" {
	echo "not a kernel" > notakernel
	run bencher-vmtest --check-kernel notakernel
	assert_eq 69 "$status"
	assert_eq "bencher-vmtest: notakernel: kernel: neither a bzImage nor an ELF vmlinux" "$output"
	[ -f "$abs_top_builddir/kernel/vmlinux" ] || skip "the guest kernel is not built (--disable-kernel)"
	run bencher-vmtest --check-kernel "$abs_top_builddir/kernel/vmlinux"
	assert_eq 0 "$status"
	assert_contains "$output" "ready:   yes"
}

@test "--check-kernel: Debian's stock kernel, whose virtio-mmio devices come through ACPI, lacks nothing" {
	local k
	k=$("$abs_top_srcdir/tests/vmhost/fetch-kernel" --offline) || skip "no Debian kernel cached (tests/vmhost/fetch-kernel)"
	run bencher-vmtest --check-kernel "$k"
	assert_eq 0 "$status" "$output"
	assert_eq 0 "$(grep -c '^lacks: ' <<<"$output")" "lacks lines"
	assert_contains "$output" "module:  virtio_mmio"
	assert_contains "$output" "module:  virtiofs"
	assert_contains "$output" "ready:   yes"
}
