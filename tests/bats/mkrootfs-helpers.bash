# mkrootfs-helpers.bash: checks for images mkrootfs writes, through the real
# e2fsprogs tools (e2fsck, debugfs), never through a mount. Load after helpers:
#   load helpers
#   load mkrootfs-helpers
# Functions:
#   fsck_clean IMG              e2fsck -fn must report nothing (every test uses it)
#   img_list IMG                one line per entry: path type mode uid gid size
#                               mtime link/dev xattrs sha256 (debugfs, batch mode)
#   tar_list TAR [TAR...]       the same lines for what extracting the tars in
#                               order gives (later entries replace earlier ones)
#   dir_list DIR                the same lines for a host directory
#   same_listing A B            diff two listings, ignoring lost+found and the
#                               root's own line (tars rarely carry one)
#   img_cat IMG PATH            a file's content on stdout
#   img_stat IMG PATH           debugfs stat output

fsck_clean() {
	local out
	if ! out=$(e2fsck -fn "$1" 2>&1); then
		printf 'e2fsck -fn %s failed:\n%s\n' "$1" "$out" >&2
		return 1
	fi
}

img_cat() {
	debugfs -R "cat \"$2\"" "$1" 2>/dev/null
}

img_stat() {
	debugfs -R "stat \"$2\"" "$1" 2>/dev/null
}

img_list() {
	python3 -c "$_mkrootfs_list_py" img "$1"
}

tar_list() {
	python3 -c "$_mkrootfs_list_py" tar "$@"
}

dir_list() {
	python3 -c "$_mkrootfs_list_py" dir "$1"
}

same_listing() {
	local a b
	a=$(grep -v -e '^lost+found ' -e '^\. ' <<<"$1")
	b=$(grep -v -e '^lost+found ' -e '^\. ' <<<"$2")
	if [ "$a" != "$b" ]; then
		diff <(echo "$a") <(echo "$b") >&2
		return 1
	fi
}

read -r -d '' _mkrootfs_list_py <<'PY' || true
import hashlib, os, re, stat, subprocess, sys, tarfile, tempfile

def line(path, kind, mode, uid, gid, size, mtime, extra, xattrs, digest):
    xs = ','.join('%s=%s' % (k, v.hex()) for k, v in sorted(xattrs.items()))
    return '%s %s %04o %d %d %s %d %s %s %s' % (path, kind, mode, uid, gid, size, mtime, extra or '-', xs or '-', digest or '-')

def norm(p):
    parts = [c for c in p.split('/') if c not in ('', '.')]
    return '/'.join(parts) or '.'

def from_tars(paths):
    ents = {}
    for p in paths:
        with tarfile.open(p) as tf:
            for m in tf:
                name = norm(m.name)
                if m.islnk():
                    src = ents[norm(m.linkname)]
                    ents[name] = src  # same inode: same attributes
                    continue
                kind = {tarfile.REGTYPE: 'file', tarfile.AREGTYPE: 'file', tarfile.DIRTYPE: 'dir',
                        tarfile.SYMTYPE: 'symlink', tarfile.CHRTYPE: 'chr', tarfile.BLKTYPE: 'blk',
                        tarfile.FIFOTYPE: 'fifo', tarfile.GNUTYPE_SPARSE: 'file'}.get(m.type, '?')
                if m.issparse(): kind = 'file'
                extra, digest = None, None
                if kind == 'file' and m.sparse is not None:
                    # tarfile expands sparse members very slowly; GNU tar does not
                    data = subprocess.run(['tar', '-xOf', p, m.name], capture_output=True, check=True).stdout
                    digest = hashlib.sha256(data).hexdigest()
                elif kind == 'file':
                    digest = hashlib.sha256(tf.extractfile(m).read()).hexdigest()
                elif kind == 'symlink':
                    extra = m.linkname
                elif kind in ('chr', 'blk'):
                    extra = '%d:%d' % (m.devmajor, m.devminor)
                xattrs = {k[len('SCHILY.xattr.'):]: v.encode('utf-8', 'surrogateescape')
                          for k, v in m.pax_headers.items() if k.startswith('SCHILY.xattr.')}
                size = m.size if kind == 'file' else '-'
                ents[name] = (kind, m.mode & 0o7777, m.uid, m.gid, size, int(m.mtime), extra, xattrs, digest)
    return ents

def from_dir(root):
    ents = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            full = os.path.join(d, n)
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            extra, digest, size = None, None, '-'
            m = st.st_mode
            if stat.S_ISREG(m):
                kind, size = 'file', st.st_size
                digest = hashlib.sha256(open(full, 'rb').read()).hexdigest()
            elif stat.S_ISDIR(m): kind = 'dir'
            elif stat.S_ISLNK(m): kind, extra = 'symlink', os.readlink(full)
            elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
                kind = 'chr' if stat.S_ISCHR(m) else 'blk'
                extra = '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
            elif stat.S_ISFIFO(m): kind = 'fifo'
            elif stat.S_ISSOCK(m): kind = 'sock'
            xattrs = {}
            if not stat.S_ISLNK(m):
                for k in os.listxattr(full, follow_symlinks=False):
                    xattrs[k] = os.getxattr(full, k, follow_symlinks=False)
            ents[rel] = (kind, stat.S_IMODE(m), st.st_uid, st.st_gid, size, int(st.st_mtime), extra, xattrs, digest)
    return ents

def debugfs(img, cmds):
    with tempfile.NamedTemporaryFile('w') as f:
        f.write('\n'.join(cmds) + '\n'); f.flush()
        out = subprocess.run(['debugfs', '-f', f.name, img], capture_output=True, check=True).stdout
    chunks = re.split(rb'^debugfs: ', out, flags=re.M)[1:]
    return [c.split(b'\n', 1)[1] if b'\n' in c else b'' for c in chunks]

def q(p):
    return '"/%s"' % p if p != '.' else '/'

def from_img(img):
    ents, todo = {}, ['.']
    kinds = {0o040000: 'dir', 0o100000: 'file', 0o120000: 'symlink', 0o020000: 'chr',
             0o060000: 'blk', 0o010000: 'fifo', 0o140000: 'sock'}
    raw = {}
    while todo:
        outs = debugfs(img, ['ls -p %s' % q(d) for d in todo])
        nxt = []
        for d, out in zip(todo, outs):
            for l in out.decode('utf-8', 'surrogateescape').splitlines():
                f = l.split('/')
                if len(f) < 7: continue
                name = '/'.join(f[5:-2])
                if name in ('', '.', '..') or f[1] == '0': continue
                rel = name if d == '.' else d + '/' + name
                mode = int(f[2], 8)
                raw[rel] = mode
                if stat.S_ISDIR(mode): nxt.append(rel)
        todo = nxt
    paths = sorted(raw)
    stats = debugfs(img, ['stat %s' % q(p) for p in paths])
    eas = debugfs(img, ['ea_list %s' % q(p) for p in paths])
    tmp = tempfile.mkdtemp()
    files = [p for p in paths if stat.S_ISREG(raw[p])]
    debugfs(img, ['dump %s %s/%d' % (q(p), tmp, i) for i, p in enumerate(files)])
    digests = {}
    for i, p in enumerate(files):
        with open('%s/%d' % (tmp, i), 'rb') as fh:
            digests[p] = hashlib.sha256(fh.read()).hexdigest()
        os.unlink('%s/%d' % (tmp, i))
    os.rmdir(tmp)
    for p, st, ea in zip(paths, stats, eas):
        s = st.decode('utf-8', 'surrogateescape')
        mode = raw[p]
        kind = kinds.get(stat.S_IFMT(mode), '?')
        uid = int(re.search(r'User:\s+(\d+)', s).group(1))
        gid = int(re.search(r'Group:\s+(\d+)', s).group(1))
        size = int(re.search(r'Size:\s+(\d+)', s).group(1)) if kind == 'file' else '-'
        mtime = int(re.search(r'mtime: 0x([0-9a-f]+)', s).group(1), 16)
        extra = None
        if kind == 'symlink':
            m = re.search(r'Fast link dest: "(.*)"', s)
            extra = m.group(1) if m else debugfs(img, ['cat %s' % q(p)])[0].decode('utf-8', 'surrogateescape')
        elif kind in ('chr', 'blk'):
            m = re.search(r'Device major/minor number: (\d+):(\d+)', s)
            extra = '%d:%d' % (int(m.group(1)), int(m.group(2)))
        xattrs = {}
        for l in ea.decode('utf-8', 'surrogateescape').splitlines():
            m = re.match(r'\s+(\S+) \((\d+)\)(?: = (.*))?$', l)
            if not m: continue
            v = m.group(3)
            if v is None and int(m.group(2)) > 0:
                # debugfs leaves long values out of ea_list
                with tempfile.NamedTemporaryFile() as vf:
                    debugfs(img, ['ea_get -f %s %s %s' % (vf.name, q(p), m.group(1))])
                    val = open(vf.name, 'rb').read()
            elif not v: val = b''
            elif v.startswith('"'): val = v[1:-1].encode('utf-8', 'surrogateescape')
            else: val = bytes.fromhex(v.replace(' ', ''))
            xattrs[m.group(1)] = val
        ents[p] = (kind, stat.S_IMODE(mode), uid, gid, size, mtime, extra, xattrs, digests.get(p))
    return ents

what = sys.argv[1]
if what == 'tar': ents = from_tars(sys.argv[2:])
elif what == 'dir': ents = from_dir(sys.argv[2])
else: ents = from_img(sys.argv[2])
for p in sorted(ents):
    print(line(p, *ents[p]))
PY
