#!/usr/bin/env bats
# The guest kernel: the built vmlinux carries every option of the fragment
# (read back from its embedded config, as scripts/extract-ikconfig does), and
# the cache key behaves.

load helpers

setup() {
	kdir=$abs_top_builddir/kernel
	fragment=$abs_top_srcdir/kernel/guest.config
	build=$abs_top_srcdir/kernel/build-kernel
}

# The config embedded in vmlinux by CONFIG_IKCONFIG, between IKCFG_ST and
# IKCFG_ED, gzip-compressed.
embedded_config() {
	local off
	off=$(grep -abo IKCFG_ST "$1" | head -n1 | cut -d: -f1)
	[ -n "$off" ] || die "$1: no IKCFG_ST marker"
	tail -c +$((off + 9)) "$1" | zcat 2>/dev/null || true
}

@test "vmlinux is a 64-bit x86 ELF and bzImage a Linux boot image" {
	run file -L "$kdir/vmlinux"
	assert_contains "$output" "ELF 64-bit LSB executable, x86-64"
	# The boot protocol header: "HdrS" at offset 0x202.
	run dd if="$kdir/bzImage" bs=1 skip=514 count=4 status=none
	assert_eq "HdrS" "$output" "bzImage header magic"
}

@test "every fragment option is in the kernel's embedded config" {
	embedded_config "$kdir/vmlinux" > "$BATS_TEST_TMPDIR/config"
	[ -s "$BATS_TEST_TMPDIR/config" ] || die "no embedded config"
	local checked=0
	while IFS= read -r line; do
		case $line in ''|'#'*) continue ;; esac
		opt=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			! grep -q "^$opt=" "$BATS_TEST_TMPDIR/config" || die "$opt is set, wanted off"
		else
			grep -qx "$opt=$val" "$BATS_TEST_TMPDIR/config" || die "$opt: wanted $val"
		fi
		checked=$((checked + 1))
	done < "$fragment"
	[ "$checked" -gt 50 ]
	# The installed copy of the config agrees with the embedded one.
	cmp "$BATS_TEST_TMPDIR/config" "$kdir/config"
}

@test "no modules, no PCI, no ACPI in the build" {
	embedded_config "$kdir/vmlinux" > "$BATS_TEST_TMPDIR/config"
	run grep -E '^CONFIG_(MODULES|PCI|ACPI)=' "$BATS_TEST_TMPDIR/config"
	[ "$status" -eq 1 ]
}

@test "cache key is stable and follows the fragment" {
	k1=$("$build" --print-key)
	k2=$("$build" --print-key)
	assert_eq "$k1" "$k2" "key"
	cp "$fragment" "$BATS_TEST_TMPDIR/frag"
	echo "CONFIG_BLK_DEV_LOOP=y" >> "$BATS_TEST_TMPDIR/frag"
	k3=$("$build" --fragment "$BATS_TEST_TMPDIR/frag" --print-key)
	[ "$k1" != "$k3" ]
}

@test "a cached build is reused, not rebuilt" {
	start=$(date +%s)
	run "$build" --out "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 0 ]
	[ $(( $(date +%s) - start )) -lt 30 ]
	cmp "$BATS_TEST_TMPDIR/k/vmlinux" "$kdir/vmlinux"
}

@test "missing source tarball is a clear error" {
	run "$build" --source /nonexistent/linux.tar.xz --cache "$BATS_TEST_TMPDIR/c"
	[ "$status" -eq 1 ]
	assert_eq "build-kernel: /nonexistent/linux.tar.xz: not readable" "$output"
	run "$build" --fragment /nonexistent/frag
	[ "$status" -eq 1 ]
	assert_contains "$output" "fragment /nonexistent/frag: not readable"
}
