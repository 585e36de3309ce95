# vmm-helpers.bash: shared by tests/bats/vmm.bats and tests/bats/kvm/vmm.bats.

VMM=$abs_top_builddir/bencher-vmm
GUEST_INIT=$abs_top_builddir/tests/vmm/guest-test-init
VSOCK_HOST=$abs_top_builddir/tests/vmm/vsock-test-host
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

# report_field FILE KEY: one field of a bencher-vmm JSON report.
report_field() {
	jq -r ".$2" "$1"
}
