#!/usr/bin/env bats
# bencher-vmm booting our guest kernel for real: run by tests/kvm.tap where
# /dev/kvm works (inside the TCG test host here). The guest's init is
# tests/vmm/guest-test-init; its commands follow "--" on the kernel command
# line, and it prints one line per result on the console. Tests use
# panic=-1 so a panic reboots at once (panic=1 busy-waits, 100x slow here).

load ../helpers
load ../vmm-helpers

setup_file() { boot_suite_setup_file; }
setup() { boot_suite_setup; }

# boot [VMM OPTIONS] -- GUEST COMMANDS: boots with the test init, console
# on stdout ($output), report in $REPORT.
boot() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	run timeout -k 10 300 "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 120 --report "$REPORT" \
		"${opts[@]}" --cmdline "panic=-1 init=/init -- $*"
}

@test "boots the ELF vmlinux to the test init's marker and reports a clean shutdown" {
	boot -- marker
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" BENCHER-TEST-MARKER
	assert_eq poweroff "$(report_field "$REPORT" outcome)" outcome
	assert_eq 0 "$(report_field "$REPORT" exit_code)" exit_code
	# The boot timer fired: a number of milliseconds, below the run time.
	jq -e '.boot_to_init_ms > 0 and .boot_to_init_ms < .run_ms and .console_bytes > 0' "$REPORT"
}

@test "boots a bzImage too" {
	[ -f "$BZIMAGE" ] || skip "no bzImage built"
	run "$VMM" --kernel "$BZIMAGE" --rootfs "$ROOTFS" --timeout 120 --cmdline "panic=-1 init=/init -- marker"
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" BENCHER-TEST-MARKER
}

@test "reads a file from the block device, and a write survives a reboot (rw)" {
	boot -- cat /data/hello.txt write /data/new.txt written-by-guest
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "CAT hello-from-disk"
	assert_contains "$output" "WRITE-OK /data/new.txt"
	boot -- cat /data/new.txt
	assert_contains "$output" "CAT written-by-guest"
	# The image on the host has it too.
	run debugfs -R "cat /data/new.txt" "$ROOTFS"
	assert_contains "$output" written-by-guest
}

@test "cow: the guest reads its own writes, the image file never changes" {
	before=$(sha256sum < "$ROOTFS")
	boot --rootfs-mode cow -- write /data/new.txt cow-data cat /data/new.txt
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "WRITE-OK /data/new.txt"
	assert_contains "$output" "CAT cow-data"
	assert_eq "$before" "$(sha256sum < "$ROOTFS")" "image checksum"
}

@test "ro: the device is read-only, reads work, writes fail" {
	before=$(sha256sum < "$ROOTFS")
	boot --rootfs-mode ro -- cat /data/hello.txt write /data/new.txt nope
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "CAT hello-from-disk"
	assert_contains "$output" "WRITE-ERROR /data/new.txt"
	assert_eq "$before" "$(sha256sum < "$ROOTFS")" "image checksum"
}

@test "2 and 4 vCPUs are all online in the guest" {
	boot --vcpus 2 -- nproc
	assert_contains "$output" "NPROC=2"
	boot --vcpus 4 -- nproc
	assert_contains "$output" "NPROC=4"
}

@test "--memory sets the guest's RAM" {
	boot --memory 256 -- meminfo
	assert_eq 0 "$status" "exit status"
	kb=$(sed -n 's/^MEMTOTAL=//p' <<< "$output" | tr -d '\r')
	[ "$kb" -gt 200000 ] && [ "$kb" -le 262144 ] || die "MemTotal $kb kB for 256 MiB"
}

@test "vsock: 64 MiB guest -> host -> guest round trip with matching checksums" {
	run "$VSOCK_HOST" -- "$VMM" --vsock-fd 3 --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 600 \
		--cmdline "panic=-1 init=/init -- vsock-echo 5000 64"
	assert_eq 0 "$status" "exit status"
	line=$(grep VSOCK-ECHO <<< "$output") || die "no echo result: $output"
	assert_contains "$line" "sent=67108864 got=67108864"
	sent=$(sed -n 's/.*sent_sum=\([0-9a-f]*\).*/\1/p' <<< "$line")
	got=$(sed -n 's/.*got_sum=\([0-9a-f]*\).*/\1/p' <<< "$line")
	assert_eq "$sent" "$got" checksum
	assert_contains "$output" "HOST port=5000 in=67108864"
	echo "# $line" >&3
}

@test "vsock: guest -> host throughput (64 MiB sink)" {
	run "$VSOCK_HOST" --sink -- "$VMM" --vsock-fd 3 --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 600 \
		--cmdline "panic=-1 init=/init -- vsock-send 5001 64"
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "VSOCK-SEND bytes=67108864"
	assert_contains "$output" "HOST port=5001 in=67108864"
	echo "# $(grep VSOCK-SEND <<< "$output")" >&3
}

@test "vsock: a host-initiated connection reaches a listening guest" {
	run "$VSOCK_HOST" --host-connect 6000:4 -- "$VMM" --vsock-fd 3 --kernel "$KERNEL" --rootfs "$ROOTFS" \
		--timeout 120 --cmdline "panic=-1 init=/init -- vsock-listen 6000"
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "VSOCK-RECEIVED bytes=4194304"
}

@test "vsock: a guest connection is refused when there is no control socket" {
	boot -- vsock-send 5000 1
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "VSOCK-ERROR connect 5000"
}

@test "boots from an initramfs alone (no disk)" {
	dir=$BATS_TEST_TMPDIR/initramfs
	mkdir -p "$dir"/proc "$dir"/sys "$dir"/dev
	cp "$GUEST_INIT" "$dir"/init
	(cd "$dir" && find . | cpio -o -H newc --quiet) > "$BATS_TEST_TMPDIR/initrd.cpio"
	run "$VMM" --kernel "$KERNEL" --initrd "$BATS_TEST_TMPDIR/initrd.cpio" --timeout 120 \
		--cmdline-replace "console=ttyS0 reboot=k panic=-1 quiet rdinit=/init -- marker"
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" BENCHER-TEST-MARKER
}

@test "a triple fault is reported: exit 6, outcome triple_fault" {
	# reboot=t makes the guest's reboot a triple fault.
	run "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 120 --report "$REPORT" \
		--cmdline-replace "console=ttyS0 reboot=t panic=-1 pci=off root=/dev/vda rw quiet init=/init -- marker"
	assert_eq 6 "$status" "exit status"
	assert_contains "$output" BENCHER-TEST-MARKER
	assert_eq triple_fault "$(report_field "$REPORT" outcome)" outcome
}
