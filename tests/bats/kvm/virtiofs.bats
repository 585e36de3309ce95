#!/usr/bin/env bats
# bencher-vmm's --virtiofs against the real virtiofsd (QEMU 7.2's, started
# by tests/vmm/virtiofs-test-host on a directory): the guest (the test
# init) mounts the share, reads, writes and lists it, and a backend that
# goes away is a bounded error. Run by tests/kvm.tap where /dev/kvm works.

load ../helpers
load ../vmm-helpers

VIRTIOFSD=/usr/lib/qemu/virtiofsd

setup_file() { boot_suite_setup_file; }
setup() {
	boot_suite_setup
	[ -x "$VIRTIOFSD" ] || skip "no $VIRTIOFSD (qemu-system-common)"
	SHARE=$BATS_TEST_TMPDIR/share
	mkdir -p "$SHARE"/dir/a "$SHARE"/dir/b
	echo hello-over-virtiofs > "$SHARE"/hello.txt
}

# share_boot [--virtiofsd PATH] SHARES... -- GUEST COMMANDS: boots with the
# shares (TAG=DIR; the first is --virtiofs at fd 3, the next at fd 4, ...).
share_boot() {
	local shares=() opts=() fd=3
	if [ "$1" = --virtiofsd ]; then
		shares+=("$1" "$2")
		shift 2
	fi
	while [ "$1" != -- ]; do
		shares+=("$1")
		opts+=(--virtiofs "${1%%=*}=$fd")
		fd=$((fd + 1))
		shift
	done
	shift
	run timeout -k 10 300 "$VIRTIOFS_HOST" "${shares[@]}" -- "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" \
		--timeout 120 --report "$REPORT" "${opts[@]}" --cmdline "panic=-1 init=/init -- $*"
}

@test "a guest reads, writes and lists a virtiofsd share" {
	share_boot share="$SHARE" -- mount-virtiofs share /mnt cat /mnt/hello.txt \
		write /mnt/dir/from-guest.txt written-over-virtiofs ls /mnt/dir
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "MOUNT-OK share"
	assert_contains "$output" "CAT hello-over-virtiofs"
	assert_contains "$output" "WRITE-OK /mnt/dir/from-guest.txt"
	assert_contains "$output" "LS a b from-guest.txt"
	assert_eq written-over-virtiofs "$(cat "$SHARE"/dir/from-guest.txt)" "file on the host"
	assert_eq poweroff "$(report_field "$REPORT" outcome)" outcome
}

@test "two shares are two devices, each mounted by its tag" {
	mkdir -p "$BATS_TEST_TMPDIR"/other
	echo from-the-other-share > "$BATS_TEST_TMPDIR"/other/note
	share_boot one="$SHARE" two="$BATS_TEST_TMPDIR/other" -- mount-virtiofs two /b mount-virtiofs one /a \
		cat /b/note cat /a/hello.txt mount-virtiofs three /c
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "CAT from-the-other-share"
	assert_contains "$output" "CAT hello-over-virtiofs"
	assert_contains "$output" "MOUNT-ERROR three"
}

@test "a guest reads a 64 MiB file over virtio-fs intact" {
	yes abcdefghijklmno | head -c 64M > "$SHARE"/big
	share_boot share="$SHARE" -- mount-virtiofs share /mnt readall /mnt/big
	assert_eq 0 "$status" "exit status"
	line=$(grep READALL <<< "$output") || die "no read result: $output"
	# FNV-1a 64 of the file, as the test init computes it.
	assert_contains "$line" "READALL bytes=67108864 sum=7a52a9ae12222325"
	echo "# $line" >&3
}

@test "a backend that hangs up before the handshake is a VMM error naming the device" {
	share_boot --virtiofsd /bin/true share="$SHARE" -- marker
	assert_eq 1 "$status" "exit status"
	assert_contains "$output" "bencher-vmm: virtio-fs share: vhost-user"
	case $output in *BENCHER-TEST-MARKER*) die "the guest ran without its share" ;; esac
}

@test "a backend that dies while the guest runs ends the run as an error, not a hang" {
	"$VIRTIOFS_HOST" share="$SHARE" -- "$VMM" --kernel "$KERNEL" --rootfs "$ROOTFS" --timeout 120 \
		--report "$REPORT" --console "$BATS_TEST_TMPDIR/console" --virtiofs share=3 \
		--cmdline "panic=-1 init=/init -- mount-virtiofs share /mnt hang" 2> "$BATS_TEST_TMPDIR/err" &
	local host=$! i
	for i in $(seq 600); do
		grep -q MOUNT-OK "$BATS_TEST_TMPDIR/console" 2>/dev/null && break
		sleep 0.2
	done
	grep -q MOUNT-OK "$BATS_TEST_TMPDIR/console" || die "no mount: $(cat "$BATS_TEST_TMPDIR/console" "$BATS_TEST_TMPDIR/err")"
	kill "$(sed -n 's/^virtiofs-test-host: virtiofsd share pid //p' "$BATS_TEST_TMPDIR/err")"
	status=0
	wait "$host" || status=$?
	assert_eq 1 "$status" "exit status"
	assert_eq error "$(report_field "$REPORT" outcome)" outcome
	assert_eq "virtio-fs share: the vhost-user backend closed the connection" "$(report_field "$REPORT" detail)" detail
}

@test "an initramfs guest with 2 vCPUs and no disk reads its share (bencher-vmtest's layout)" {
	dir=$BATS_TEST_TMPDIR/initramfs
	mkdir -p "$dir"/proc "$dir"/sys "$dir"/dev
	cp "$GUEST_INIT" "$dir"/init
	(cd "$dir" && find . | cpio -o -H newc --quiet) > "$BATS_TEST_TMPDIR/initrd.cpio"
	run timeout -k 10 300 "$VIRTIOFS_HOST" share="$SHARE" -- "$VMM" --kernel "$KERNEL" \
		--initrd "$BATS_TEST_TMPDIR/initrd.cpio" --vcpus 2 --timeout 120 --virtiofs share=3 \
		--cmdline-replace "console=ttyS0 reboot=k panic=-1 quiet rdinit=/init -- nproc mount-virtiofs share /mnt cat /mnt/hello.txt ls /mnt"
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "NPROC=2"
	assert_contains "$output" "CAT hello-over-virtiofs"
	assert_contains "$output" "LS dir hello.txt"
}
