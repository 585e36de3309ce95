#!/usr/bin/env bats
# smoke: the floor every KVM suite stands on. Run by tests/kvm.tap where
# /dev/kvm works (here, or inside the TCG test host): KVM answers, and our
# guest kernel boots under QEMU's microvm, the reference VMM.

load ../helpers

setup() {
	kernel=$abs_top_builddir/kernel/vmlinux
	init=$abs_top_builddir/tests/vmhost/probe-init
	[ -f "$kernel" ] || die "$kernel: not built"
	[ -x "$init" ] || die "$init: not built"
}

@test "/dev/kvm is a usable KVM device (KVM_GET_API_VERSION is 12)" {
	[ -c /dev/kvm ] || die "/dev/kvm: not a character device"
	run perl -e 'open(my $f, "+<", "/dev/kvm") or die "open /dev/kvm: $!\n";
		my $v = ioctl($f, 0xAE00, 0); defined $v or die "KVM_GET_API_VERSION: $!\n";
		print $v + 0, "\n"'
	[ "$status" -eq 0 ] || die "$output"
	assert_eq 12 "$output" "KVM_GET_API_VERSION"
}

@test "kvm-probe says yes" {
	run "$abs_top_srcdir/tests/kvm-probe" --kernel "$kernel" --init "$init" --timeout 120
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "yes: "
	echo "# $output" >&3
}

@test "the guest kernel boots an ext4 root on virtio-blk under QEMU microvm with KVM" {
	local dir=$BATS_TEST_TMPDIR
	mkdir -p "$dir/root/sbin" "$dir/root/dev"
	cp "$init" "$dir/root/sbin/init"
	mke2fs -q -F -t ext4 -d "$dir/root" "$dir/root.ext4" 8M || die "mke2fs failed"
	local start=$EPOCHREALTIME
	run timeout 120 qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu host -m 256 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot -serial stdio \
		-kernel "$kernel" \
		-drive id=r,file="$dir/root.ext4",format=raw,if=none -device virtio-blk-device,drive=r \
		-append "console=ttyS0 reboot=t panic=-1 pci=off root=/dev/vda rw init=/sbin/init quiet"
	local ms
	ms=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	[ "$status" -eq 0 ] || die "qemu exit status $status: $output"
	assert_contains "$output" "BENCHER-KVM-PROBE-OK"
	echo "# microvm boot to init and reboot: $ms ms" >&3
}
