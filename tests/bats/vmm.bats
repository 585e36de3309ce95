#!/usr/bin/env bats
# bencher-vmm as a user sees it without a working KVM: help, option and
# config errors, missing or malformed inputs, and their exit codes. Every
# check here happens before /dev/kvm is opened. Boot tests live in
# tests/bats/kvm/vmm.bats.

load helpers
load vmm-helpers

setup() {
	T=$BATS_TEST_TMPDIR
}

@test "--help lists every option and the exit codes" {
	run "$VMM" --help
	assert_eq 0 "$status"
	for o in --kernel --kernel-fd --rootfs --rootfs-fd --rootfs-mode --initrd --initrd-fd --vsock-fd --kvm-fd \
		--console --console-fd --report --report-fd --vcpus --memory --timeout --cmdline --cmdline-replace \
		--verbose --config --no-cmdline-devices --no-seccomp; do
		assert_contains "$output" "$o"
	done
	assert_contains "$output" "5 guest kernel panic"
}

@test "--kvm-fd: a descriptor that is not open is an error naming it" {
	run "$VMM" --kernel "$KERNEL" --kvm-fd 9
	assert_eq 1 "$status"
	assert_contains "$output" "bencher-vmm: kvm: fd 9: Bad file descriptor"
	run "$VMM" --kernel "$KERNEL" --kvm-fd nine
	assert_eq 2 "$status"
}

@test "--version names the program" {
	run "$VMM" --version
	assert_eq 0 "$status"
	assert_contains "$output" bencher-vmm
}

@test "no kernel is a usage error (exit 2)" {
	run "$VMM"
	assert_eq 2 "$status"
	assert_contains "$output" "bencher-vmm: no kernel"
}

@test "unknown options and stray arguments are usage errors" {
	run "$VMM" --frobnicate
	assert_eq 2 "$status"
	run "$VMM" --kernel /x extra
	assert_eq 2 "$status"
	assert_contains "$output" "unexpected argument: extra"
}

@test "out-of-range numbers are usage errors" {
	run "$VMM" --kernel /x --vcpus 33
	assert_eq 2 "$status"
	assert_contains "$output" "--vcpus"
	run "$VMM" --kernel /x --vcpus 0
	assert_eq 2 "$status"
	run "$VMM" --kernel /x --memory 8
	assert_eq 2 "$status"
	run "$VMM" --kernel /x --timeout -1
	assert_eq 2 "$status"
	run "$VMM" --kernel /x --rootfs-mode rx
	assert_eq 2 "$status"
	assert_contains "$output" "--rootfs-mode"
}

@test "a missing kernel file is a runtime error naming it (exit 1)" {
	run "$VMM" --kernel "$T/nope" --report "$T/r.json"
	assert_eq 1 "$status"
	assert_contains "$output" "bencher-vmm: kernel: "
	assert_contains "$output" "$T/nope"
	# The report is written even for a setup error.
	assert_eq error "$(report_field "$T/r.json" outcome)"
	assert_eq 1 "$(report_field "$T/r.json" exit_code)"
}

@test "a missing rootfs is an error naming it" {
	head -c 4096 /dev/zero > "$T/k"
	run "$VMM" --kernel "$T/k" --rootfs "$T/none.ext4"
	assert_eq 1 "$status"
	assert_contains "$output" "rootfs: "
	assert_contains "$output" "none.ext4"
}

@test "a bad --kernel-fd is an error" {
	run "$VMM" --kernel-fd 77
	assert_eq 1 "$status"
	assert_contains "$output" "kernel: fd 77"
}

@test "--vsock-fd must be a SOCK_SEQPACKET socket" {
	echo x > "$T/f"
	head -c 4096 /dev/zero > "$T/k"
	run "$VMM" --kernel "$T/k" --vsock-fd 5 5< "$T/f"
	assert_eq 1 "$status"
	assert_contains "$output" "vsock: fd 5 is not a SOCK_SEQPACKET socket"
}

@test "--virtiofs: malformed, over-long, duplicate and too many tags are usage errors" {
	run "$VMM" --help
	assert_contains "$output" "--virtiofs TAG=FD"
	run "$VMM" --kernel /x --virtiofs share
	assert_eq 2 "$status"
	assert_contains "$output" "--virtiofs: expected TAG=FD, got 'share'"
	run "$VMM" --kernel /x --virtiofs share=x
	assert_eq 2 "$status"
	run "$VMM" --kernel /x --virtiofs =3
	assert_eq 2 "$status"
	assert_contains "$output" "--virtiofs: tag '': 1 to 36 bytes"
	run "$VMM" --kernel /x --virtiofs "$(printf 'x%.0s' {1..37})=3"
	assert_eq 2 "$status"
	assert_contains "$output" "1 to 36 bytes"
	run "$VMM" --kernel /x --virtiofs a=3 --virtiofs a=4
	assert_eq 2 "$status"
	assert_contains "$output" "--virtiofs: tag 'a' given twice"
	local many=()
	for i in 1 2 3 4 5 6 7 8 9; do many+=(--virtiofs "t$i=3"); done
	run "$VMM" --kernel /x "${many[@]}"
	assert_eq 2 "$status"
	assert_contains "$output" "--virtiofs: at most 8 devices"
}

@test "--virtiofs: the fd must be an open, connected AF_UNIX stream socket" {
	echo x > "$T/f"
	head -c 4096 /dev/zero > "$T/k"
	run "$VMM" --kernel "$T/k" --virtiofs share=9
	assert_eq 1 "$status"
	assert_contains "$output" "bencher-vmm: virtio-fs share: fd 9: Bad file descriptor"
	run "$VMM" --kernel "$T/k" --virtiofs share=5 5< "$T/f"
	assert_eq 1 "$status"
	assert_contains "$output" "bencher-vmm: virtio-fs share: fd 5 is not an AF_UNIX SOCK_STREAM socket"
	# The vsock control socket is AF_UNIX but SOCK_SEQPACKET.
	run "$VSOCK_HOST" -- "$VMM" --kernel "$T/k" --virtiofs share=3
	assert_eq 1 "$status"
	assert_contains "$output" "bencher-vmm: virtio-fs share: fd 3 is not an AF_UNIX SOCK_STREAM socket"
}

@test "--virtiofs in vm.json: an array of tag and fd, checked as on the command line" {
	head -c 4096 /dev/zero > "$T/k"
	echo '{"kernel": "'"$T/k"'", "virtiofs": [{"tag": "share", "fd": 9}]}' > "$T/vm.json"
	run "$VMM" --config "$T/vm.json"
	assert_eq 1 "$status"
	assert_contains "$output" "bencher-vmm: virtio-fs share: fd 9: Bad file descriptor"
	echo '{"kernel": "/x", "virtiofs": [{"tag": "a", "fd": 3}, {"tag": "a", "fd": 4}]}' > "$T/vm.json"
	run "$VMM" --config "$T/vm.json"
	assert_eq 2 "$status"
	assert_contains "$output" "tag 'a' given twice"
	echo '{"kernel": "/x", "virtiofs": [{"tag": "a", "fd": 3, "path": "/x"}]}' > "$T/vm.json"
	run "$VMM" --config "$T/vm.json"
	assert_eq 1 "$status"
	assert_contains "$output" "virtiofs[0].path"
}

@test "a config file supplies options; the command line overrides it; unknown keys fail" {
	cat > "$T/vm.json" <<-JSON
	{"kernel": "$T/from-json", "vcpus": 2, "memory": 256}
	JSON
	run "$VMM" --config "$T/vm.json"
	assert_eq 1 "$status"
	assert_contains "$output" "$T/from-json"
	run "$VMM" --config "$T/vm.json" --kernel "$T/from-cli"
	assert_contains "$output" "$T/from-cli"
	echo '{"kernel": "/k", "vcpu": 2}' > "$T/bad.json"
	run "$VMM" --config "$T/bad.json"
	[ "$status" -ne 0 ]
	assert_contains "$output" vcpu
	echo '{"kernel": "/k", "vcpus": 64}' > "$T/range.json"
	run "$VMM" --config "$T/range.json"
	[ "$status" -ne 0 ]
	assert_contains "$output" vcpus
	echo '{"kernel": ' > "$T/broken.json"
	run "$VMM" --config "$T/broken.json"
	[ "$status" -ne 0 ]
	assert_contains "$output" broken.json
}

# Malformed kernels are rejected before /dev/kvm is opened, so these run
# anywhere.
@test "a kernel that is neither ELF nor bzImage is rejected" {
	head -c 8192 /dev/urandom > "$T/k"
	run "$VMM" --kernel "$T/k"
	assert_eq 1 "$status"
	assert_contains "$output" "neither an ELF vmlinux nor a bzImage"
}

@test "a truncated ELF vmlinux is rejected" {
	[ -f "$KERNEL" ] || skip "no kernel built"
	head -c 100000 "$KERNEL" > "$T/k"
	run "$VMM" --kernel "$T/k"
	assert_eq 1 "$status"
	assert_contains "$output" "kernel: ELF segment"
	assert_contains "$output" truncated
}

@test "a truncated bzImage is rejected" {
	[ -f "$BZIMAGE" ] || skip "no bzImage built"
	head -c 2000 "$BZIMAGE" > "$T/k"
	run "$VMM" --kernel "$T/k"
	assert_eq 1 "$status"
	assert_contains "$output" "kernel: bzImage"
}

@test "a kernel larger than guest memory is rejected" {
	[ -f "$KERNEL" ] || skip "no kernel built"
	run "$VMM" --kernel "$KERNEL" --memory 32 --rootfs /dev/null
	[ "$status" -ne 0 ]
}

@test "a directory as kernel is rejected" {
	run "$VMM" --kernel "$T"
	assert_eq 1 "$status"
	assert_contains "$output" "not a regular file"
}
