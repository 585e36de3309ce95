#!/usr/bin/env bats
# mkrootfs.bats: mkrootfs as a user sees it. Every image is checked with the
# real e2fsck -fn and read back with debugfs, entry by entry, against its
# source (mkrootfs-helpers.bash); bad input must fail cleanly, leaving nothing.

load helpers
load mkrootfs-helpers

setup() {
	T=$BATS_TEST_TMPDIR
	export SOURCE_DATE_EPOCH=1700000000
}

# A pax tar with every entry type and attribute mkrootfs keeps.
make_all_tar() {
	python3 - "$1" <<'PY'
import io, os, sys, tarfile
tf = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
def add(name, kind=tarfile.REGTYPE, data=None, mode=0o644, uid=0, gid=0, link='', dev=(0, 0), xattrs=None, mtime=1600000000):
    t = tarfile.TarInfo(name); t.type = kind; t.mode = mode; t.uid = uid; t.gid = gid; t.mtime = mtime
    t.linkname = link; t.devmajor, t.devminor = dev; t.uname = t.gname = ''
    if xattrs:
        t.pax_headers = {'SCHILY.xattr.' + k: v for k, v in xattrs.items()}
    if data is not None: t.size = len(data)
    tf.addfile(t, io.BytesIO(data) if data is not None else None)
D = tarfile.DIRTYPE
add('etc', D, mode=0o755, mtime=1500000000)
add('etc/passwd', data=b'root:x:0:0:root:/root:/bin/sh\n', xattrs={'user.comment': 'hello'})
add('etc/empty', data=b'')
add('tmp', D, mode=0o1777)
add('usr', D, mode=0o755)
add('usr/bin', D, mode=0o750, uid=1000, gid=1000)
add('usr/bin/su', data=b'#!/bin/sh\necho su\n', mode=0o4755,
    xattrs={'security.capability': '\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'})
add('usr/bin/wall', data=b'wall\n', mode=0o2755, uid=100000, gid=200000)
add('usr/bin/su2', tarfile.LNKTYPE, link='usr/bin/su')
add('usr/big', data=os.urandom(5 << 20) , mode=0o600, uid=65534, gid=65534)
add('usr/manyxattrs', data=b'x', xattrs={'user.big': 'y' * 300, 'trusted.t': 'v'})
add('lib', tarfile.SYMTYPE, link='usr/lib', mode=0o777)
add('usr/lib', D)
add('usr/longlink', tarfile.SYMTYPE, link='/' + 'long/' * 40 + 'target', mode=0o777)
add('dev', D)
add('dev/null', tarfile.CHRTYPE, mode=0o666, dev=(1, 3))
add('dev/sda', tarfile.BLKTYPE, mode=0o660, gid=6, dev=(8, 0))
add('dev/huge', tarfile.CHRTYPE, dev=(300, 70000))
add('run', D)
add('run/fifo', tarfile.FIFOTYPE, mode=0o600)
add('name with spaces and ünïcode', data=b'utf8\n')
tf.close()
PY
}

@test "mkrootfs: a tar with every entry type round-trips through ext4" {
	make_all_tar "$T/all.tar"
	mkrootfs -o "$T/all.ext4" "$T/all.tar"
	fsck_clean "$T/all.ext4"
	same_listing "$(img_list "$T/all.ext4")" "$(tar_list "$T/all.tar")"
	# the hard link is one inode with two links; the big xattr is in a block
	assert_contains "$(img_stat "$T/all.ext4" /usr/bin/su2)" "Links: 2"
	[ "$(debugfs -R 'stat /usr/bin/su' "$T/all.ext4" 2>/dev/null | sed -n 's/.*Inode: \([0-9]*\).*/\1/p')" = \
		"$(debugfs -R 'stat /usr/bin/su2' "$T/all.ext4" 2>/dev/null | sed -n 's/.*Inode: \([0-9]*\).*/\1/p')" ]
	assert_contains "$(img_stat "$T/all.ext4" /usr/manyxattrs)" "File ACL: "
	run img_stat "$T/all.ext4" /usr/manyxattrs
	[[ ! "$output" =~ "File ACL: 0" ]]
	# fast and slow symlinks
	assert_contains "$(img_stat "$T/all.ext4" /lib)" 'Fast link dest: "usr/lib"'
	assert_contains "$(img_stat "$T/all.ext4" /usr/longlink)" "EXTENTS"
}

@test "mkrootfs: features a 6.1 kernel mounts, label and uuid" {
	make_all_tar "$T/all.tar"
	mkrootfs -L rootfs -U 01234567-89ab-cdef-0123-456789abcdef -o "$T/a.ext4" "$T/all.tar"
	fsck_clean "$T/a.ext4"
	run dumpe2fs -h "$T/a.ext4"
	[ "$status" -eq 0 ]
	assert_contains "$output" "Filesystem volume name:   rootfs"
	assert_contains "$output" "Filesystem UUID:          01234567-89ab-cdef-0123-456789abcdef"
	for f in has_journal extent 64bit flex_bg huge_file dir_nlink extra_isize metadata_csum; do
		assert_contains "$output" " $f"
	done
	[[ ! "$output" =~ orphan_file ]]
	[[ ! "$output" =~ resize_inode ]]
	run dumpe2fs -h "$T/a.ext4"
	mkrootfs --no-journal -o "$T/nj.ext4" "$T/all.tar"
	fsck_clean "$T/nj.ext4"
	run dumpe2fs -h "$T/nj.ext4"
	[[ ! "$output" =~ has_journal ]]
}

@test "mkrootfs: sparse files stay sparse, including deep extent trees" {
	mkdir "$T/src"
	python3 - "$T/src" <<'PY'
import os, sys
d = sys.argv[1]
with open(d + '/holes', 'wb') as f:
    f.truncate(64 << 20)
    for off in (0, 30 << 20, (64 << 20) - 5000):
        f.seek(off); f.write(b'data' * 1000)
# 1500 separate data regions: more extents than an index block's worth
with open(d + '/many', 'wb') as f:
    for i in range(1500):
        f.seek(i * 65536 + 100); f.write(b'%d' % i)
    f.truncate(1500 * 65536)
PY
	tar --sparse --format=pax -C "$T/src" -cf "$T/sparse.tar" .
	mkrootfs -o "$T/s.ext4" "$T/sparse.tar"
	fsck_clean "$T/s.ext4"
	same_listing "$(img_list "$T/s.ext4")" "$(tar_list "$T/sparse.tar")"
	# 64 MiB logical, a few blocks allocated
	blocks=$(img_stat "$T/s.ext4" /holes | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p')
	[ "$blocks" -lt 200 ]
	# the image file itself is sparse on the host
	[ "$(du -k "$T/s.ext4" | cut -f1)" -lt 32768 ]
	# and the directory source keeps the holes too
	mkrootfs -o "$T/d.ext4" "$T/src"
	fsck_clean "$T/d.ext4"
	same_listing "$(img_list "$T/d.ext4")" "$(dir_list "$T/src")"
	blocks=$(img_stat "$T/d.ext4" /holes | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p')
	[ "$blocks" -lt 200 ]
}

@test "mkrootfs: a directory source keeps owners, modes, links, devices, fifos, sockets, xattrs" {
	mkdir -p "$T/src/a/b"
	python3 - "$T/src" <<'PY'
import os, socket, sys
d = sys.argv[1]
open(d + '/a/f', 'w').write('hello\n')
os.chmod(d + '/a/f', 0o4755)
os.chown(d + '/a/f', 1234, 5678)
os.link(d + '/a/f', d + '/a/b/hard')
os.symlink('f', d + '/a/sl')
os.symlink('x' * 150, d + '/a/slow')
os.mkfifo(d + '/a/fifo')
s = socket.socket(socket.AF_UNIX); s.bind(d + '/a/sock'); s.close()
os.mknod(d + '/a/null', 0o20644, os.makedev(1, 3))
os.setxattr(d + '/a/f', 'user.k', b'v')
os.chmod(d + '/a/b', 0o1777)
open(d + '/a/big', 'wb').write(os.urandom(3 << 20))
PY
	mkrootfs -o "$T/d.ext4" "$T/src"
	fsck_clean "$T/d.ext4"
	same_listing "$(img_list "$T/d.ext4")" "$(dir_list "$T/src")"
	assert_contains "$(img_list "$T/d.ext4")" "a/sock sock 0755"
}

@test "mkrootfs: stdin (pipe or file) and a file argument give the same image" {
	make_all_tar "$T/all.tar"
	u=01234567-89ab-cdef-0123-456789abcdef
	mkrootfs -U $u -o "$T/file.ext4" "$T/all.tar"
	mkrootfs -U $u -o "$T/redirect.ext4" <"$T/all.tar"
	# shellcheck disable=SC2002 # a pipe on purpose: mkrootfs reads a pipe differently
	cat "$T/all.tar" | mkrootfs -U $u -o "$T/pipe.ext4"
	# shellcheck disable=SC2002 # a pipe on purpose: mkrootfs reads a pipe differently
	cat "$T/all.tar" | mkrootfs -U $u -o "$T/dash.ext4" -
	cmp "$T/file.ext4" "$T/redirect.ext4"
	cmp "$T/file.ext4" "$T/pipe.ext4"
	cmp "$T/file.ext4" "$T/dash.ext4"
	# options after the source are read too, as GNU tools read them
	mkrootfs "$T/all.tar" -U $u -o "$T/after.ext4"
	cmp "$T/file.ext4" "$T/after.ext4"
	# compressed input, and a streamed build with a given size
	gzip -c "$T/all.tar" | mkrootfs -U $u -o "$T/gz.ext4"
	cmp "$T/file.ext4" "$T/gz.ext4"
	zstd -q -c "$T/all.tar" | mkrootfs --size 64M -o "$T/sized.ext4"
	fsck_clean "$T/sized.ext4"
	[ "$(stat -c %s "$T/sized.ext4")" -eq $((64 << 20)) ]
	same_listing "$(img_list "$T/sized.ext4")" "$(tar_list "$T/all.tar")"
	# no spool or temp file left beside the output
	[ "$(find "$T" -name '*.tmp.*' -o -name '.mkrootfs-spool*' | wc -l)" -eq 0 ]
}

@test "mkrootfs: deterministic: the same input and flags give a byte-identical image" {
	make_all_tar "$T/all.tar"
	mkrootfs -o "$T/1.ext4" "$T/all.tar"
	sleep 1.1
	mkrootfs -o "$T/2.ext4" "$T/all.tar"
	cmp "$T/1.ext4" "$T/2.ext4"
	# created directories and the superblock carry SOURCE_DATE_EPOCH
	assert_contains "$(dumpe2fs -h "$T/1.ext4" 2>/dev/null)" "Tue Nov 14 22:13:20 2023"
	SOURCE_DATE_EPOCH=1700000001 mkrootfs -o "$T/3.ext4" "$T/all.tar"
	run cmp -s "$T/1.ext4" "$T/3.ext4"
	[ "$status" -ne 0 ]
}

# make_big_tar TAR: 40 files of 1 MiB of random bytes.
make_big_tar() {
	python3 - "$1" <<'PY'
import io, os, sys, tarfile
tf = tarfile.open(sys.argv[1], "w")
for i in range(40):
    t = tarfile.TarInfo("f%d" % i); t.size = 1 << 20
    tf.addfile(t, io.BytesIO(os.urandom(t.size)))
PY
}

@test "mkrootfs: automatic size follows the content and --headroom" {
	make_big_tar "$T/big.tar"
	mkrootfs --headroom 0 -o "$T/small.ext4" "$T/big.tar"
	mkrootfs --headroom 100M -o "$T/more.ext4" "$T/big.tar"
	mkrootfs --headroom 50% -o "$T/pct.ext4" "$T/big.tar"
	fsck_clean "$T/small.ext4"
	fsck_clean "$T/more.ext4"
	fsck_clean "$T/pct.ext4"
	small=$(stat -c %s "$T/small.ext4")
	more=$(stat -c %s "$T/more.ext4")
	pct=$(stat -c %s "$T/pct.ext4")
	[ "$small" -ge $((40 << 20)) ] && [ "$small" -lt $((80 << 20)) ]
	[ $((more - small)) -ge $((100 << 20)) ]
	[ "$pct" -gt "$small" ] && [ "$pct" -lt "$more" ]
	mkrootfs --inodes 50000 -o "$T/inodes.ext4" "$T/big.tar"
	run dumpe2fs -h "$T/inodes.ext4"
	count=$(sed -n 's/^Inode count: *//p' <<<"$output")
	[ "$count" -ge 50000 ]
}

@test "mkrootfs: --init installs /bencher/init and the mount points, replacing the image's" {
	printf '#!/bin/sh\necho init\n' >"$T/init"
	python3 - "$T/img.tar" <<'PY'
import io, sys, tarfile
tf = tarfile.open(sys.argv[1], 'w')
t = tarfile.TarInfo('bencher'); t.type = tarfile.SYMTYPE; t.linkname = '/etc'; tf.addfile(t)
t = tarfile.TarInfo('etc'); t.type = tarfile.DIRTYPE; t.mode = 0o755; tf.addfile(t)
t = tarfile.TarInfo('tmp'); t.type = tarfile.DIRTYPE; t.mode = 0o700; tf.addfile(t)
t = tarfile.TarInfo('run'); t.type = tarfile.SYMTYPE; t.linkname = 'var/run'; tf.addfile(t)
PY
	mkrootfs --init "$T/init" -o "$T/i.ext4" "$T/img.tar"
	fsck_clean "$T/i.ext4"
	list=$(img_list "$T/i.ext4")
	assert_contains "$list" "bencher dir 0755 0 0"
	assert_contains "$list" "bencher/init file 0755 0 0 $(stat -c %s "$T/init") "
	assert_contains "$list" "$(sha256sum <"$T/init" | cut -d' ' -f1)"
	assert_contains "$list" "proc dir 0755"
	assert_contains "$list" "sys dir 0755"
	assert_contains "$list" "dev dir 0755"
	# what the image had is kept (mount points are only created if missing)
	assert_contains "$list" "tmp dir 0700"
	assert_contains "$list" "run symlink 0644 0 0 - 0 var/run"
	# and an empty source gets everything, /tmp world-writable and sticky
	mkdir "$T/empty"
	mkrootfs --init "$T/init" -o "$T/e.ext4" "$T/empty"
	fsck_clean "$T/e.ext4"
	assert_contains "$(img_list "$T/e.ext4")" "tmp dir 1777"
}

@test "mkrootfs: later entries replace earlier ones, tar style" {
	python3 - "$T/r.tar" <<'PY'
import io, sys, tarfile
tf = tarfile.open(sys.argv[1], 'w')
def f(name, data):
    t = tarfile.TarInfo(name); t.size = len(data); tf.addfile(t, io.BytesIO(data))
def d(name, mode=0o755):
    t = tarfile.TarInfo(name); t.type = tarfile.DIRTYPE; t.mode = mode; tf.addfile(t)
f('a', b'first' * 2000)
f('a', b'second\n')
d('dir', 0o700)
d('dir', 0o755)
f('dir/x', b'x\n')
d('empty')
f('empty', b'now a file\n')
f('link-src', b'src\n')
t = tarfile.TarInfo('hl'); t.type = tarfile.LNKTYPE; t.linkname = 'link-src'; tf.addfile(t)
f('hl', b'replaced link\n')
f('implicit/parent/file', b'deep\n')
PY
	mkrootfs -o "$T/r.ext4" "$T/r.tar"
	fsck_clean "$T/r.ext4"
	[ "$(img_cat "$T/r.ext4" /a)" = second ]
	[ "$(img_cat "$T/r.ext4" /empty)" = "now a file" ]
	[ "$(img_cat "$T/r.ext4" /hl)" = "replaced link" ]
	[ "$(img_cat "$T/r.ext4" /link-src)" = src ]
	[ "$(img_cat "$T/r.ext4" /implicit/parent/file)" = deep ]
	list=$(img_list "$T/r.ext4")
	assert_contains "$list" "dir dir 0755"
	assert_contains "$list" "implicit dir 0755 0 0 - 1700000000"
	assert_contains "$(img_stat "$T/r.ext4" /link-src)" "Links: 1"
}

# bad input: exit 1, one clear line, and no image (nor temp file) left behind
bad_input() {
	local want=$1
	shift
	run "$@"
	[ "$status" -eq 1 ] || die "status $status: $output"
	assert_contains "$output" "mkrootfs: "
	assert_contains "$output" "$want"
	[ "$(echo "$output" | wc -l)" -eq 1 ] || die "more than one line: $output"
	[ ! -e "$T/out.ext4" ] || die "image left behind"
	[ "$(find "$T" -name 'out.ext4.tmp*' | wc -l)" -eq 0 ] || die "temp file left behind"
}

hostile_tar() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import io, sys, tarfile
tf = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT)
def f(name, data=b'x\n'):
    t = tarfile.TarInfo(name); t.size = len(data); tf.addfile(t, io.BytesIO(data))
f('ok')
kind = sys.argv[2]
if kind == 'traversal': f('a/../../evil')
elif kind == 'absolute': f('/etc/evil')
elif kind == 'symlink-parent':
    t = tarfile.TarInfo('etc'); t.type = tarfile.SYMTYPE; t.linkname = '/tmp'; tf.addfile(t)
    f('etc/passwd')
elif kind == 'hardlink-missing':
    t = tarfile.TarInfo('hl'); t.type = tarfile.LNKTYPE; t.linkname = 'nowhere'; tf.addfile(t)
elif kind == 'hardlink-traversal':
    t = tarfile.TarInfo('hl'); t.type = tarfile.LNKTYPE; t.linkname = '../../etc/shadow'; tf.addfile(t)
elif kind == 'dir-replaced':
    t = tarfile.TarInfo('d'); t.type = tarfile.DIRTYPE; tf.addfile(t)
    f('d/x'); f('d')
tf.close()
PY
}

@test "mkrootfs: path traversal, absolute names and symlinked parents are refused" {
	for k in traversal absolute symlink-parent hardlink-missing hardlink-traversal dir-replaced; do
		hostile_tar "$T/$k.tar" $k
	done
	bad_input 'a/../../evil: name with ".." refused (path traversal)' mkrootfs -o "$T/out.ext4" "$T/traversal.tar"
	bad_input '/etc/evil: absolute name refused' mkrootfs -o "$T/out.ext4" "$T/absolute.tar"
	bad_input 'etc/passwd: parent etc is a symlink' mkrootfs -o "$T/out.ext4" "$T/symlink-parent.tar"
	bad_input 'hl: hard link to missing nowhere' mkrootfs -o "$T/out.ext4" "$T/hardlink-missing.tar"
	bad_input 'path traversal' mkrootfs -o "$T/out.ext4" "$T/hardlink-traversal.tar"
	bad_input 'd: replaces a non-empty directory' mkrootfs -o "$T/out.ext4" "$T/dir-replaced.tar"
}

@test "mkrootfs: truncated tar, garbage and empty input fail cleanly" {
	make_all_tar "$T/all.tar"
	head -c 3000000 "$T/all.tar" >"$T/trunc.tar"
	bad_input "trunc.tar: " mkrootfs -o "$T/out.ext4" "$T/trunc.tar"
	bad_input "stdin: " bash -c "head -c 3000000 '$T/all.tar' | mkrootfs -o '$T/out.ext4'"
	bad_input "stdin: " bash -c "head -c 3000000 '$T/all.tar' | mkrootfs --size 64M -o '$T/out.ext4'"
	bad_input "stdin: not a tar archive" bash -c "head -c 100000 /dev/urandom | mkrootfs -o '$T/out.ext4'"
	bad_input "stdin: " bash -c "mkrootfs -o '$T/out.ext4' </dev/null"
	bad_input "nonexistent: No such file or directory" mkrootfs -o "$T/out.ext4" "$T/nonexistent"
	# an existing image is kept when a rebuild fails
	echo old >"$T/keep.ext4"
	run mkrootfs -o "$T/keep.ext4" "$T/trunc.tar"
	[ "$status" -eq 1 ]
	[ "$(cat "$T/keep.ext4")" = old ]
}

@test "mkrootfs: a too small --size says how much is needed" {
	make_all_tar "$T/all.tar"
	bad_input "out.ext4: out of space: needs at least " mkrootfs --size 8M -o "$T/out.ext4" "$T/all.tar"
	bad_input "out.ext4: out of space: needs at least " bash -c "cat '$T/all.tar' | mkrootfs --size 8M -o '$T/out.ext4'"
	need=$(mkrootfs --size 8M -o "$T/out.ext4" "$T/all.tar" 2>&1 | sed -n 's/.*needs at least //p')
	mkrootfs --size "$need" -o "$T/fits.ext4" "$T/all.tar"
	fsck_clean "$T/fits.ext4"
}

@test "mkrootfs: a read-only output directory fails cleanly" {
	make_all_tar "$T/all.tar"
	mkdir "$T/ro"
	if [ "$(id -u)" -eq 0 ]; then
		command -v unshare >/dev/null || skip "root without unshare"
		unshare -m true 2>/dev/null || skip "cannot unshare a mount namespace"
		run unshare -m sh -c "mount -t tmpfs -o ro tmpfs '$T/ro' && mkrootfs -o '$T/ro/out.ext4' '$T/all.tar'"
	else
		chmod 555 "$T/ro"
		run mkrootfs -o "$T/ro/out.ext4" "$T/all.tar"
	fi
	[ "$status" -eq 1 ]
	assert_contains "$output" "mkrootfs: "
	assert_contains "$output" "out.ext4"
	[ ! -e "$T/ro/out.ext4" ]
}

# layered_image DIR: the layered test image of images.bash, tagged "test".
layered_image() {
	command -v oci-unpack >/dev/null || skip "oci-unpack not built"
	command -v umoci >/dev/null || skip "umoci not installed"
	# images.bash ends in a `read -d ''` that returns 1, which `load` refuses
	set +e
	# shellcheck source=tests/bats/images.bash
	source "$BATS_TEST_DIRNAME/images.bash"
	set -e
	make_layered_image "$1" test
}

# same_tree_as_tar IMG TAR: IMG holds what TAR does, apart from what --init adds.
same_tree_as_tar() {
	local list expect
	list=$(img_list "$1" | grep -v -e '^bencher' -e '^proc ' -e '^sys ' -e '^dev ' -e '^run ' -e '^tmp ')
	expect=$(tar_list "$2" | grep -v -e '^bencher' -e '^proc ' -e '^sys ' -e '^dev ' -e '^run ' -e '^tmp ')
	same_listing "$list" "$expect"
}

@test "mkrootfs: a real multi-layer image through oci-unpack" {
	layered_image "$T/img"
	oci-unpack "$T/img:test" >"$T/flat.tar"
	oci-unpack "$T/img:test" | mkrootfs --init /bin/true -o "$T/l.ext4"
	fsck_clean "$T/l.ext4"
	same_tree_as_tar "$T/l.ext4" "$T/flat.tar"
	assert_contains "$(img_list "$T/l.ext4")" "bencher/init file 0755"
	# busybox made it across
	[ -n "$(img_cat "$T/l.ext4" /bin/busybox | head -c 4)" ]
}

@test "mkrootfs: --estimate-from writes a piped stream straight in, never spooling it" {
	layered_image "$T/img"
	oci-unpack --config-only --estimate --config-out "$T/img.json" "$T/img:test"
	d=$(jq -r .image_digest "$T/img.json")
	oci-unpack --digest "$d" "$T/img:test" >"$T/flat.tar"
	# a spool directory that cannot exist: spooling would fail
	bad_input "$T/no/such/dir" bash -c "cat '$T/flat.tar' | mkrootfs --spool-dir '$T/no/such/dir' -o '$T/out.ext4'"
	oci-unpack --digest "$d" "$T/img:test" |
		mkrootfs --estimate-from "$T/img.json" --spool-dir "$T/no/such/dir" --init /bin/true -o "$T/e.ext4"
	fsck_clean "$T/e.ext4"
	same_tree_as_tar "$T/e.ext4" "$T/flat.tar"
	# a seekable file is counted exactly: the estimate is not needed there
	mkrootfs --estimate-from "$T/img.json" --spool-dir "$T/no/such/dir" -o "$T/f.ext4" "$T/flat.tar"
	fsck_clean "$T/f.ext4"
}

@test "mkrootfs: a stream larger than its estimate fails cleanly, saying what it needs" {
	make_big_tar "$T/big.tar"
	printf '{"estimate":{"bytes":4096,"entries":1}}\n' >"$T/small.json"
	bad_input "out.ext4: out of space: needs at least 4" \
		bash -c "cat '$T/big.tar' | mkrootfs --headroom 0 --estimate-from '$T/small.json' -o '$T/out.ext4'"
	printf '{"estimate":{"bytes":41943040,"entries":40}}\n' >"$T/right.json"
	# shellcheck disable=SC2002 # a pipe on purpose: mkrootfs reads a pipe differently
	cat "$T/big.tar" | mkrootfs --headroom 0 --estimate-from "$T/right.json" -o "$T/fits.ext4"
	fsck_clean "$T/fits.ext4"
	printf '{"image_digest":null}\n' >"$T/none.json"
	bad_input "none.json: no estimate" bash -c "mkrootfs --estimate-from '$T/none.json' -o '$T/out.ext4' </dev/null"
}

@test "mkrootfs: usage errors exit 2" {
	run mkrootfs
	[ "$status" -eq 2 ]
	assert_contains "$output" "-o IMAGE is required"
	run mkrootfs -o x --size 1K
	[ "$status" -eq 2 ]
	run mkrootfs -o x --uuid nope
	[ "$status" -eq 2 ]
	run mkrootfs -o x --label 12345678901234567
	[ "$status" -eq 2 ]
	run mkrootfs -o x a b
	[ "$status" -eq 2 ]
	run mkrootfs --help
	[ "$status" -eq 0 ]
	assert_contains "$output" "Usage: mkrootfs"
}

@test "mkrootfs: the guest kernel mounts the image read-write and runs /bencher/init (QEMU TCG)" {
	kernel=$abs_top_builddir/kernel/bzImage
	[ -f "$kernel" ] || skip "no guest kernel in the build dir"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	[ -x /bin/busybox ] || skip "busybox-static not installed"
	mkdir -p "$T/src/bin"
	cp /bin/busybox "$T/src/bin/"
	cat >"$T/init" <<'SH'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "ROOT: $(/bin/busybox grep ' / ' /proc/mounts)"
echo hello >/tmp/written && /bin/busybox sync && echo "WROTE: $(/bin/busybox cat /tmp/written)"
/bin/busybox reboot -f
SH
	mkrootfs --init "$T/init" -o "$T/boot.ext4" "$T/src"
	run timeout 120 qemu-system-x86_64 -M microvm,acpi=off -accel tcg -cpu max -m 256 -nographic \
		-no-reboot -nodefaults -serial stdio -kernel "$kernel" \
		-drive id=r,file="$T/boot.ext4",format=raw,if=none -device virtio-blk-device,drive=r \
		-append "console=ttyS0 reboot=t panic=-1 pci=off root=/dev/vda rw init=/bencher/init quiet"
	assert_contains "$output" "ROOT: /dev/root / ext4 rw"
	assert_contains "$output" "WROTE: hello"
	# what the guest wrote is a clean file system too
	fsck_clean "$T/boot.ext4"
	[ "$(img_cat "$T/boot.ext4" /tmp/written)" = hello ]
}
