#!/usr/bin/env bats
# bencher-init from an initramfs built by lib/vmtest (through the test driver
# tests/vmtest/initramfs-tool), no root disk: our kernel as a bzImage and as
# an ELF vmlinux gets its run config over vsock and runs a command; Debian's
# stock kernel loads the modules the initramfs brings and runs the same
# command (over the serial fallback: see the last test). Run by tests/kvm.tap
# where /dev/kvm works (in the TCG test host).

load ../helpers
load ../collect-results-helpers

setup_file() {
	local d=$BATS_FILE_TMPDIR bb=${BUSYBOX:-/bin/busybox}
	tool=$abs_top_builddir/tests/vmtest/initramfs-tool
	"$tool" --init "$abs_top_builddir/bencher-init" --kernel "$abs_top_builddir/kernel/bzImage" \
		--file "/bin/busybox=$bb" -o "$d/ours.cpio"
	# Debian's kernel boots here without a vsock device, so init takes the
	# serial fallback, whose config the initramfs carries.
	run_json "$d/serial.json" /bin/busybox sh -c 'busybox cut -d" " -f1 /proc/modules | busybox tr "\n" " "; exit 5'
	collect-results --config "$d/serial.json" --encode-config "$d/run.cfg"
	DEBIAN_KERNEL=$("$abs_top_srcdir/tests/vmhost/fetch-kernel" --offline) || DEBIAN_KERNEL=""
	if [ -n "$DEBIAN_KERNEL" ]; then
		"$tool" --init "$abs_top_builddir/bencher-init" --kernel "$DEBIAN_KERNEL" \
			--file "/bin/busybox=$bb" --file "/bencher/run.cfg=$d/run.cfg" -o "$d/debian.cpio"
	fi
	export DEBIAN_KERNEL
}

setup() {
	T=$BATS_TEST_TMPDIR
}

# boot KERNEL INITRD [COLLECT-OPTIONS...]: one boot of KERNEL with INITRD and
# no disk, $T/run.json as the run config; output in $T/out and $T/err.
boot() {
	local kernel=$1 initrd=$2 vsock=()
	shift 2
	[ -z "${NO_VSOCK:-}" ] && vsock=(--vsock-fd 3)
	status=0
	collect-results --config "$T/run.json" --out "$T/results.json" --timeout 240 "$@" -- \
		bencher-vmm --kernel "$kernel" --initrd "$initrd" --memory 512 --cmdline "panic=-1" "${vsock[@]}" \
		>"$T/out" 2>"$T/err" || status=$?
	tail -n 5 "$T/err" >&2
}

@test "initramfs: our bzImage runs init from it, config over vsock, HMAC verified" {
	run_json "$T/run.json" /bin/busybox sh -c 'echo "pid1=$(busybox cat /proc/1/comm) root=$(busybox ls /)"; exit 7'
	boot "$abs_top_builddir/kernel/bzImage" "$BATS_FILE_TMPDIR/ours.cpio"
	assert_eq 7 "$status" status
	assert_eq "pid1=init root=bencher bin dev init proc root run sys tmp" "$(tr '\n' ' ' <"$T/out" | sed 's/ *$//; s/  */ /g')" stdout
	assert_contains "$(cat "$T/err")" "[HMAC] verification passed"
	assert_eq vsock "$(json_get "$T/results.json" 'd["transport"]')" transport
	echo "# our bzImage from an initramfs: wall $(json_get "$T/results.json" 'd["wall_clock_ms"]') ms" >&3
}

@test "initramfs: our vmlinux (ELF) boots the same initramfs" {
	run_json "$T/run.json" /bin/busybox echo from-vmlinux
	boot "$abs_top_builddir/kernel/vmlinux" "$BATS_FILE_TMPDIR/ours.cpio"
	assert_eq 0 "$status" status
	assert_eq from-vmlinux "$(cat "$T/out")" stdout
}

@test "initramfs: Debian's stock kernel loads its modules from it and runs the command" {
	[ -n "$DEBIAN_KERNEL" ] || die "no Debian kernel cached (tests/vmhost/fetch-kernel)"
	cp "$BATS_FILE_TMPDIR/serial.json" "$T/run.json"
	NO_VSOCK=1 boot "$DEBIAN_KERNEL" "$BATS_FILE_TMPDIR/debian.cpio"
	assert_eq 5 "$status" status
	for m in virtio_ring virtio virtio_mmio vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport \
		fuse virtiofs overlay; do
		assert_contains " $(cat "$T/out")" " $m "
	done
	assert_eq serial "$(json_get "$T/results.json" 'd["transport"]')" transport
	echo "# Debian's kernel, 9 modules: wall $(json_get "$T/results.json" 'd["wall_clock_ms"]') ms" >&3
}

@test "initramfs: --check-kernel finds nothing lacking in Debian's kernel (ACPI) or ours (command-line devices)" {
	[ -n "$DEBIAN_KERNEL" ] || die "no Debian kernel cached (tests/vmhost/fetch-kernel)"
	run "$abs_top_builddir/tests/vmtest/initramfs-tool" --check-kernel "$DEBIAN_KERNEL"
	assert_eq 0 "$status" "status: $output"
	assert_eq 0 "$(grep -c '^lacks ' <<<"$output")" "lacks lines"
	assert_contains "$output" "module virtio_mmio"
	assert_contains "$output" "module virtiofs"
	run "$abs_top_builddir/tests/vmtest/initramfs-tool" --check-kernel "$abs_top_builddir/kernel/bzImage"
	assert_eq 0 "$status" status
	assert_contains "$output" "(CONFIG_IKCONFIG)"
}
