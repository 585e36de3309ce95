#!/usr/bin/env bats
# bencher-vmtest end to end: host programs under our kernel (and Debian's,
# which finds the devices through ACPI),
# the host root shared read-only over virtio-fs under a RAM overlay, vmtest's
# one-liner and vmtest.toml semantics, a panic reported fast, and the TAP and
# JUnit reports read by prove and xmllint. Run by tests/kvm.tap where
# /dev/kvm works (here, or inside the TCG test host).

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	KERNEL=$abs_top_builddir/kernel/vmlinux
	[ -f "$KERNEL" ] || die "$KERNEL: not built"
	[ -x /usr/lib/qemu/virtiofsd ] || skip "no /usr/lib/qemu/virtiofsd (qemu-system-common)"
	export TMPDIR=$BATS_TEST_TMPDIR
	# The guest gets a fresh /tmp, so the working directory (which the
	# guest sees at the same path) is in the build tree.
	WORK=$(mktemp -d "$abs_top_builddir/tests/vmtest-kvm.XXXXXX")
	cd "$WORK" || return 1
}

teardown() { rm -rf "$WORK"; }

# vmt ARGS...: bencher-vmtest, its stderr kept apart in $stderr.
vmt() {
	run --separate-stderr bencher-vmtest "$@"
}

# toml TEXT...: ./vmtest.toml from the lines given.
toml() { printf '%s\n' "$@" > vmtest.toml; }

# target NAME COMMAND [CPUS [MEMORY [MORE LINES...]]]: a [[target]] on our
# kernel, 1 CPU and 256M unless asked.
target() {
	printf '[[target]]\nname = "%s"\nkernel = "%s"\ncommand = """%s"""\n[target.vm]\nnum_cpus = %s\nmemory = "%s"\n' \
		"$1" "$KERNEL" "$2" "${3:-1}" "${4:-256M}"
	shift 2
	shift $(($# < 2 ? $# : 2))
	[ $# -eq 0 ] || printf '%s\n' "$@"
}

@test "the one-liner: COMMAND's output streams back and its exit code is ours" {
	vmt -k "$KERNEL" -- 'echo out; echo err >&2; exit 3'
	assert_eq 3 "$status" "exit status"
	assert_eq out "$output" stdout
	assert_eq "err
FAIL vmlinux: exit code 3" "$stderr" stderr
	vmt -k "$KERNEL" -- true
	assert_eq 0 "$status" "exit status"
	assert_eq "" "$output$stderr" "output"
}

@test "bash -c, the caller's environment and working directory, process substitution" {
	mkdir -p work/dir
	cd work/dir
	VMTEST_PROBE='a b  c' vmt -k "$KERNEL" -- 'echo "$VMTEST_PROBE"; pwd; cat <(echo from-a-substitution); echo $BASH_VERSION | cut -c1'
	assert_eq 0 "$status" "exit status: $stderr"
	assert_eq "a b  c
$WORK/work/dir
from-a-substitution
5" "$output"
}

@test "host files are read-only and never written; guest writes land in RAM" {
	echo original > host-file
	local sum
	sum=$(stat -c '%s %Y' host-file)
	vmt -k "$KERNEL" -- "echo changed > $PWD/host-file && cat $PWD/host-file && touch /guest-was-here && ls /guest-was-here"
	assert_eq 0 "$status" "exit status: $stderr"
	assert_eq "changed
/guest-was-here" "$output"
	assert_eq original "$(cat host-file)" "host file"
	assert_eq "$sum" "$(stat -c '%s %Y' host-file)" "host file size and mtime"
	[ ! -e /guest-was-here ] || die "the guest wrote the host root"
}

@test "-r DIR is the guest's root: bash and its libraries, nothing else" {
	mkdir -p "root/bin" "root/etc" "root$WORK"
	echo from-the-other-root > root/etc/marker
	cp /bin/bash root/bin/bash
	local lib
	for lib in $(ldd /bin/bash | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'); do
		mkdir -p "root${lib%/*}" && cp "$lib" "root$lib"
	done
	vmt -k "$KERNEL" -r root -- 'read -r l < /etc/marker; echo $l; [ -e /usr/bin/env ] || echo no-host-root'
	assert_eq 0 "$status" "exit status: $stderr"
	assert_eq "from-the-other-root
no-host-root" "$output"
}

@test "vmtest.toml: writable and read-only mounts, /mnt/vmtest writable" {
	mkdir ro rw
	echo ro-content > ro/f
	toml "$(target mounts "cat /ro/f; echo w > /rw/new; echo m > /mnt/vmtest/from-guest; echo x > /ro/f || echo ro-refused" \
		1 256M '[target.vm.mounts]' "\"/ro\" = { host_path = \"ro\" }" "\"/rw\" = { host_path = \"rw\", writable = true }")"
	run --separate-stderr bencher-vmtest
	assert_eq 0 "$status" "exit status: $stderr"
	assert_eq "ro-content
ro-refused" "$output"
	assert_eq "/bin/bash: line 1: /ro/f: Read-only file system
PASS mounts" "$stderr"
	assert_eq w "$(cat rw/new)" "written through the writable mount"
	assert_eq m "$(cat from-guest)" "written through /mnt/vmtest"
	assert_eq ro-content "$(cat ro/f)" "the read-only mount"
}

@test "vmtest.toml: failures counted, a filter, num_cpus, memory and kernel_args seen by the guest" {
	toml "$(target pass-cpus 'test $(nproc) = 2' 2)" \
		"$(target fail-one 'exit 1')" \
		"$(target pass-mem "awk '/MemTotal/ { exit !(\$2 > 300000 && \$2 < 393216) }' /proc/meminfo" 1 384M)" \
		"$(target fail-two 'exit 7')" \
		"[[target]]
name = \"pass-kargs\"
kernel = \"$KERNEL\"
kernel_args = \"vmtest.probe=42\"
command = \"grep -q ' vmtest.probe=42' /proc/cmdline\"
[target.vm]
num_cpus = 1
memory = \"256M\""
	run --separate-stderr bencher-vmtest
	assert_eq 2 "$status" "exit status: $stderr"
	assert_eq "PASS pass-cpus
FAIL fail-one: exit code 1
PASS pass-mem
FAIL fail-two: exit code 7
PASS pass-kargs" "$stderr"
	run --separate-stderr bencher-vmtest -f 'fail-t'
	assert_eq 1 "$status"
	assert_eq "FAIL fail-two: exit code 7" "$stderr"
}

@test "--format tap and junit over real runs, read by prove and xmllint" {
	toml "$(target good true)" "$(target bad 'exit 4')"
	bencher-vmtest --format tap > report.tap 2>/dev/null || true
	assert_eq "TAP version 13
1..2
ok 1 - good
not ok 2 - bad
# exit code 4" "$(cat report.tap)"
	run prove --exec cat report.tap
	assert_eq 1 "$status"
	assert_contains "$output" "Failed 1/2 subtests"
	bencher-vmtest --format junit -f bad > report.xml 2>/dev/null || true
	run xmllint --noout --schema "$abs_top_srcdir/tests/vmtest/junit.xsd" report.xml
	assert_eq 0 "$status" "$output"
	run xmllint --xpath 'string(//testcase[@name="bad"]/failure/@message)' report.xml
	assert_eq "exit code 4" "$output"
}

@test "a SysRq panic ends the run fast, as its own failure with the panic line" {
	# The guest says when it panics; the time from that line reaching us
	# to bencher-vmtest's exit is the panic's cost (boot excluded).
	bencher-vmtest -k "$KERNEL" -- 'echo panicking; echo c > /proc/sysrq-trigger; sleep 600' > out 2> err &
	local pid=$! i t0="" st=0
	for (( i = 0; i < 3000; i++ )); do
		grep -q panicking out 2>/dev/null && { t0=$EPOCHREALTIME; break; }
		sleep 0.02
	done
	[ -n "$t0" ] || die "the guest never said it was panicking: $(cat err)"
	wait "$pid" || st=$?
	local ms
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	assert_eq 69 "$st" "exit status"
	assert_contains "$(cat err)" "FAIL vmlinux: Kernel panic - not syncing: sysrq triggered crash"
	[ "$ms" -lt 30000 ] || die "the panic took $ms ms to report"
	echo "# panic to exit: $ms ms (test host wall time)" >&3
}

@test "a bzImage boots as well as a vmlinux" {
	local bz=$abs_top_builddir/kernel/bzImage
	[ -f "$bz" ] || skip "no bzImage built"
	vmt -k "$bz" -- 'uname -r'
	assert_eq 0 "$status" "exit status: $stderr"
	[ -n "$output" ] || die "no release printed"
}

@test "SIGTERM mid-run: 143, and no virtiofsd or temporary file is left" {
	bencher-vmtest -k "$KERNEL" -- 'echo started; sleep 600' > out 2> err &
	local pid=$! i
	for (( i = 0; i < 600; i++ )); do
		grep -q started out 2>/dev/null && break
		sleep 0.2
	done
	assert_eq started "$(cat out)" "the guest started"
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	assert_eq 143 "$st" "exit status ($(cat err))"
	run pgrep -f "source=$BATS_TEST_TMPDIR/bencher-vmtest"
	assert_eq 1 "$status" "virtiofsd left running: $output"
	run compgen -G "$BATS_TEST_TMPDIR/bencher-vmtest.*"
	assert_eq 1 "$status" "temporary files left: $output ($(cat err))"
	assert_eq "collect-results: warning: cancelled by signal 15: stopping COMMAND
collect-results: warning: [HMAC] no HMAC received: the results are unverified
FAIL vmlinux: cancelled" "$(grep -v '^bencher-vmm: ' err)" stderr
}

@test "Debian's stock kernel: its modules load, it finds the devices through ACPI, COMMAND runs" {
	local k
	k=$("$abs_top_srcdir/tests/vmhost/fetch-kernel" --offline) || die "no Debian kernel cached (tests/vmhost/fetch-kernel)"
	local t0=$EPOCHREALTIME
	vmt -k "$k" -- 'uname -r; grep -c virtio_mmio.device= /proc/cmdline; ls /sys/bus/platform/drivers/virtio-mmio | grep -c LNRO0005; echo ok'
	local ms
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	assert_eq 0 "$status" "exit status: $stderr"
	# No command-line devices: the VMM's DSDT alone describes the vsock
	# device and the two virtio-fs shares, and virtio_mmio binds all three.
	assert_eq "${k##*/vmlinuz-}
0
3
ok" "$output"
	assert_eq "" "$stderr" stderr
	echo "# Debian's kernel: boot to result in $ms ms" >&3
}
