# vmm-helpers.bash: shared by tests/bats/vmm.bats and tests/bats/kvm/vmm.bats.

VMM=$abs_top_builddir/bencher-vmm
GUEST_INIT=$abs_top_builddir/tests/vmm/guest-test-init
VSOCK_HOST=$abs_top_builddir/tests/vmm/vsock-test-host
VIRTIOFS_HOST=$abs_top_builddir/tests/vmm/virtiofs-test-host
KERNEL=$abs_top_builddir/kernel/vmlinux
BZIMAGE=$abs_top_builddir/kernel/bzImage

# make_rootfs IMAGE: an ext4 image with the test init at /init and a file
# /data/hello.txt, built with the real mke2fs.
make_rootfs() {
	local dir
	dir=$(mktemp -d)
	mkdir -p "$dir"/proc "$dir"/sys "$dir"/dev "$dir"/data
	cp "$GUEST_INIT" "$dir"/init
	echo hello-from-disk > "$dir"/data/hello.txt
	mke2fs -q -t ext4 -d "$dir" "$1" 64M || return 1
	rm -rf "$dir"
}

# For the boot suites: one template rootfs per file (setup_file), a fresh
# copy of it per test (setup), and where the report goes.
boot_suite_setup_file() {
	export ROOTFS_TEMPLATE=$BATS_FILE_TMPDIR/template.ext4
	make_rootfs "$ROOTFS_TEMPLATE"
}

boot_suite_setup() {
	[ -f "$KERNEL" ] || die "$KERNEL: not built"
	[ -x "$GUEST_INIT" ] || die "$GUEST_INIT: not built"
	ROOTFS=$BATS_TEST_TMPDIR/root.ext4
	cp "$ROOTFS_TEMPLATE" "$ROOTFS"
	REPORT=$BATS_TEST_TMPDIR/report.json
}

# report_field FILE KEY: one field of a bencher-vmm JSON report.
report_field() {
	jq -r ".$2" "$1"
}
