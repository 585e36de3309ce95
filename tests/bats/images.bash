# images.bash: builds small OCI test images with umoci, for the oci-unpack,
# mkrootfs and scenario suites. Source it after `load helpers`:
#   load images
# Functions (all fail loudly; DIR is an OCI image layout directory):
#   make_layer_tar OUT.tar < SPEC        a layer tarball from a line spec (below)
#   new_image DIR TAG                    an empty image (umoci init + new)
#   add_layer DIR TAG LAYER.tar          append an uncompressed tar as a gzip layer
#   set_config DIR TAG [umoci config options...]
#   make_busybox_image DIR TAG [CMD...]  one layer: busybox-static, its applets, /etc,
#                                        CMD as the image's Cmd (default /bin/sh)
#   make_layered_image DIR TAG           busybox plus four layers exercising every
#                                        flattening rule (see the function)
#   oci_layer_blobs DIR TAG              the layer blob paths, bottom first
#   oci_set_layer DIR TAG N|append FILE [MEDIATYPE]
#                                        put FILE in as layer N (0 = bottom) or on
#                                        top, verbatim, fixing up manifest and index
#   tree_manifest TAR|DIR [noowner] [nodev]  a comparable listing (see below)
#   start_registry [DIR]                 Debian's docker-registry on a free loopback
#                                        port; sets REGISTRY_ADDR (127.0.0.1:PORT),
#                                        REGISTRY_PID, REGISTRY_DIR
#   stop_registry                        stops it and removes its storage
#   push_image DIR TAG REPO[:TAG]        skopeo copy to the registry (plain http)
#   free_port                            prints a free loopback TCP port
#
# SPEC lines for make_layer_tar (fields separated by spaces; MODE octal,
# defaults 0755 for dirs and 0644 otherwise; owner 0:0 unless given):
#   dir PATH [MODE [UID [GID]]]
#   file PATH CONTENT|@HOSTFILE [MODE [UID [GID]]]
#   big PATH BYTES [SEED]             pseudo-random-ish text, about 2x compressible
#   symlink PATH TARGET
#   hardlink PATH TARGET
#   chr|blk PATH MAJOR MINOR [MODE]
#   fifo PATH
#   whiteout PATH                     writes DIR/.wh.NAME
#   opaque DIR                        writes DIR/.wh..wh..opq
#   xattr KEY VALUE                   on the entry of the previous line
#   raw PATH TYPE                     an entry named exactly PATH (for hostile tests)

: "${BUSYBOX:=/bin/busybox}"

make_layer_tar() {
	python3 -c "$_images_mklayer_py" "$1"
}

read -r -d '' _images_mklayer_py <<'PY' || true
import io, sys, tarfile, random
out = sys.argv[1]
entries = []
for line in sys.stdin.read().splitlines():
    f = line.split()
    if not f or f[0].startswith('#'):
        continue
    if f[0] == 'xattr':
        entries[-1][0].pax_headers['SCHILY.xattr.' + f[1]] = f[2]
        continue
    kind, path = f[0], f[1]
    t = tarfile.TarInfo(path)
    t.mtime = 1700000000
    t.uname = t.gname = ''
    data = None
    def own(i, default_mode):
        t.mode = int(f[i], 8) if len(f) > i else default_mode
        t.uid = int(f[i + 1]) if len(f) > i + 1 else 0
        t.gid = int(f[i + 2]) if len(f) > i + 2 else 0
    if kind == 'dir':
        t.type = tarfile.DIRTYPE; own(2, 0o755)
    elif kind == 'file':
        c = f[2]
        data = open(c[1:], 'rb').read() if c.startswith('@') else c.encode() + b'\n'
        own(3, 0o644)
    elif kind == 'big':
        n = int(f[2]); rnd = random.Random(f[3] if len(f) > 3 else path)
        words = [bytes(rnd.choice(b'abcdefghijklmnopqrstuvwxyz') for _ in range(rnd.randint(2, 9))) for _ in range(4096)]
        parts = []; size = 0
        while size < n:
            w = bytes(rnd.choice(b'abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(6)) if rnd.random() < 0.3 else rnd.choice(words)
            parts.append(w + b' '); size += len(w) + 1
        data = b''.join(parts)[:n]; t.mode = 0o644
    elif kind == 'symlink':
        t.type = tarfile.SYMTYPE; t.linkname = f[2]; t.mode = 0o777
    elif kind == 'hardlink':
        t.type = tarfile.LNKTYPE; t.linkname = f[2]; t.mode = 0o644
    elif kind in ('chr', 'blk'):
        t.type = tarfile.CHRTYPE if kind == 'chr' else tarfile.BLKTYPE
        t.devmajor, t.devminor = int(f[2]), int(f[3]); t.mode = int(f[4], 8) if len(f) > 4 else 0o666
    elif kind == 'fifo':
        t.type = tarfile.FIFOTYPE; t.mode = 0o644
    elif kind == 'whiteout':
        d, _, n = path.rpartition('/')
        t.name = (d + '/' if d else '') + '.wh.' + n; t.mode = 0o644; data = b''
    elif kind == 'opaque':
        t.name = path.rstrip('/') + '/.wh..wh..opq'; t.mode = 0o644; data = b''
    elif kind == 'raw':
        t.type = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE}[f[2]]
        t.linkname = f[3] if len(f) > 3 else ''
        t.mode = 0o644; data = b'' if t.type == tarfile.REGTYPE else None
    else:
        sys.exit('make_layer_tar: unknown spec line: ' + line)
    if data is not None:
        t.size = len(data)
    entries.append((t, data))
with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as tf:
    for t, data in entries:
        tf.addfile(t, io.BytesIO(data) if data is not None else None)
PY

new_image() {
	[ -d "$1" ] || umoci init --layout "$1" || return 1
	umoci new --image "$1:$2"
}

add_layer() {
	umoci raw add-layer --history.created_by "images.bash" --image "$1:$2" "$3"
}

set_config() {
	local dir=$1 tag=$2
	shift 2
	umoci config --image "$dir:$tag" "$@"
}

# The busybox-static base layer: /bin/busybox, applet symlinks, /etc basics.
busybox_spec() {
	local a
	printf '%s\n' 'dir bin' 'dir etc' 'dir tmp 1777' 'dir root 0700' \
		"file bin/busybox @$BUSYBOX 0755" \
		'file etc/passwd root:x:0:0:root:/root:/bin/sh' \
		'file etc/group root:x:0:'
	for a in sh ls cat echo true false mkdir rm ln stat sleep env id; do
		echo "symlink bin/$a busybox"
	done
}

make_busybox_image() {
	local dir=$1 tag=$2 tmp
	shift 2
	local args=() c rc=0
	[ $# -gt 0 ] || set -- /bin/sh
	for c in "$@"; do args+=(--config.cmd "$c"); done
	tmp=$(mktemp -d) || return 1
	if ! { busybox_spec | make_layer_tar "$tmp/base.tar" &&
		new_image "$dir" "$tag" &&
		add_layer "$dir" "$tag" "$tmp/base.tar" &&
		set_config "$dir" "$tag" --config.env PATH=/bin --config.workingdir / "${args[@]}"; }; then
		rc=1
	fi
	rm -rf "$tmp"
	return "$rc"
}

# busybox plus layers that exercise every flattening rule:
#  2: files, a dir with children, hard links, symlinks, devices, a fifo,
#     xattrs, setuid/setgid/sticky bits, owners
#  3: replaces a file by a dir and a dir by a file, whites out a file and a
#     dir, makes a dir opaque, replaces a hard link's target, changes a
#     dir's attributes
#  4: an empty layer
#  5: re-creates a whited-out name, links across layers
make_layered_image() {
	local dir=$1 tag=$2 tmp rc=0
	make_busybox_image "$dir" "$tag" || return 1
	tmp=$(mktemp -d) || return 1
	_layered_image_layers "$dir" "$tag" "$tmp" || rc=1
	rm -rf "$tmp"
	return "$rc"
}

_layered_image_layers() {
	local dir=$1 tag=$2 tmp=$3
	make_layer_tar "$tmp/l2.tar" <<-'SPEC' &&
		dir app 0755 1000 1000
		file app/keep kept 0644 1000 1000
		file app/replaced-by-dir was-a-file
		dir app/replaced-by-file
		file app/replaced-by-file/child child
		file app/gone bye
		dir app/gonedir
		file app/gonedir/x x
		dir app/opaque
		file app/opaque/old old
		file app/target original-content
		hardlink app/link1 app/target
		hardlink app/link2 app/target
		symlink app/sym keep
		symlink app/abs /bin/busybox
		chr app/null 1 3 0666
		blk app/blk 7 0 0660
		fifo app/fifo
		file app/suid s 4755
		file app/sgid g 2755
		dir app/sticky 1777
		file app/xattr x
		xattr user.test hello
		xattr user.other world
		dir app/attrs 0700 5 6
		file app/attrs/in in
	SPEC
	add_layer "$dir" "$tag" "$tmp/l2.tar" &&
	make_layer_tar "$tmp/l3.tar" <<-'SPEC' &&
		dir app 0755 1000 1000
		dir app/replaced-by-dir 0750
		file app/replaced-by-dir/new new
		file app/replaced-by-file now-a-file
		whiteout app/gone
		whiteout app/gonedir
		dir app/opaque
		opaque app/opaque
		file app/opaque/new new
		file app/target replaced-content
		dir app/attrs 0751 7 8
	SPEC
	add_layer "$dir" "$tag" "$tmp/l3.tar" &&
	make_layer_tar "$tmp/l4.tar" </dev/null &&
	add_layer "$dir" "$tag" "$tmp/l4.tar" &&
	make_layer_tar "$tmp/l5.tar" <<-'SPEC' &&
		dir app
		file app/gone back
		hardlink app/link3 app/keep
		file app/deep/implicit parent-not-in-layer
	SPEC
	add_layer "$dir" "$tag" "$tmp/l5.tar"
}

oci_layer_blobs() {
	local dir=$1 tag=$2 m
	m=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$dir/index.json") || return 1
	jq -r '.layers[].digest' "$dir/blobs/sha256/${m#sha256:}" | sed "s|^sha256:|$dir/blobs/sha256/|"
}

oci_set_layer() {
	local dir=$1 tag=$2 n=$3 file=$4 mt=${5:-application/vnd.oci.image.layer.v1.tar+gzip}
	local mdig hex size filter
	mdig=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$dir/index.json") || return 1
	hex=$(sha256sum "$file" | cut -d' ' -f1) && size=$(stat -c %s "$file") || return 1
	cp "$file" "$dir/blobs/sha256/$hex" || return 1
	# shellcheck disable=SC2016 # jq variables
	if [ "$n" = append ]; then filter='.layers += [$desc]'; else filter='.layers[$n] = $desc'; fi
	jq -c --argjson n "${n/append/0}" --argjson desc "{\"mediaType\":\"$mt\",\"digest\":\"sha256:$hex\",\"size\":$size}" \
		"$filter" "$dir/blobs/sha256/${mdig#sha256:}" >"$dir/manifest.tmp" || return 1
	hex=$(sha256sum "$dir/manifest.tmp" | cut -d' ' -f1) && size=$(stat -c %s "$dir/manifest.tmp") || return 1
	mv "$dir/manifest.tmp" "$dir/blobs/sha256/$hex" || return 1
	jq -c --arg t "$tag" --arg d "sha256:$hex" --argjson s "$size" \
		'(.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)) |= (.digest = $d | .size = $s)' \
		"$dir/index.json" >"$dir/index.tmp" && mv "$dir/index.tmp" "$dir/index.json"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry [AUTH_YAML]: AUTH_YAML is spliced under `auth:` when given.
start_registry() {
	local port _
	REGISTRY_DIR=$(mktemp -d) || return 1
	port=$(free_port) || return 1
	REGISTRY_ADDR=127.0.0.1:$port
	{
		printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n' "$REGISTRY_DIR/data"
		printf 'http:\n  addr: %s\n' "$REGISTRY_ADDR"
		if [ -n "${1:-}" ]; then printf 'auth:\n%s\n' "$1"; fi
	} >"$REGISTRY_DIR/config.yml"
	docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 &
	REGISTRY_PID=$!
	for _ in $(seq 100); do
		if curl -s -o /dev/null "http://$REGISTRY_ADDR/v2/"; then
			export REGISTRY_ADDR REGISTRY_PID REGISTRY_DIR
			return 0
		fi
		kill -0 "$REGISTRY_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$REGISTRY_DIR/log" >&2
	stop_registry
	return 1
}

stop_registry() {
	if [ -n "${REGISTRY_PID:-}" ]; then
		kill "$REGISTRY_PID" 2>/dev/null
		wait "$REGISTRY_PID" 2>/dev/null || true  # 143: it was killed
	fi
	[ -n "${REGISTRY_DIR:-}" ] && rm -rf "$REGISTRY_DIR"
	REGISTRY_PID='' REGISTRY_DIR='' REGISTRY_ADDR=''
}

push_image() {
	skopeo copy --quiet --dest-tls-verify=false "oci:$1:$2" "docker://$REGISTRY_ADDR/$3"
}

# tree_manifest TAR|DIR [noowner] [nodev]: one sorted line per entry,
# "path type mode uid:gid size content-sha|link-target|major,minor xattrs",
# so a tar stream and an extracted tree compare with diff. Hard links show as
# their target's file; the root itself is left out.
tree_manifest() {
	python3 -c "$_images_manifest_py" "$@"
}

read -r -d '' _images_manifest_py <<'PY' || true
import hashlib, os, stat, sys, tarfile
src, opts = sys.argv[1], set(sys.argv[2:])
out = {}
def line(path, t, mode, uid, gid, size, extra, xattrs):
    if t in 'cb' and 'nodev' in opts:
        return
    own = '-' if 'noowner' in opts else '%d:%d' % (uid, gid)
    xa = ','.join('%s=%s' % kv for kv in sorted(xattrs.items())) or '-'
    out[path] = '%s %s %04o %s %d %s %s' % (path, t, mode, own, size, extra or '-', xa)
if os.path.isdir(src):
    for root, dirs, files in os.walk(src):
        for n in dirs + files:
            p = os.path.join(root, n); rel = os.path.relpath(p, src); st = os.lstat(p)
            m = st.st_mode; t = 'f'; extra = ''; size = 0
            if stat.S_ISDIR(m): t = 'd'
            elif stat.S_ISLNK(m): t = 'l'; extra = os.readlink(p)
            elif stat.S_ISREG(m):
                size = st.st_size
                with open(p, 'rb') as f: extra = hashlib.sha256(f.read()).hexdigest()[:16]
            elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
                t = 'c' if stat.S_ISCHR(m) else 'b'; extra = '%d,%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
            elif stat.S_ISFIFO(m): t = 'p'
            xattrs = {}
            if t != 'l':
                for k in os.listxattr(p, follow_symlinks=False):
                    if k.startswith('user.') and k != 'user.rootlesscontainers':
                        xattrs[k] = os.getxattr(p, k, follow_symlinks=False).decode(errors='replace')
            line(rel, t, stat.S_IMODE(m), st.st_uid, st.st_gid, size, extra, xattrs)
else:
    seen = {}
    with tarfile.open(src) as tf:
        for mi in tf:
            name = os.path.normpath(mi.name)
            if name == '.': continue
            xattrs = {k[len('SCHILY.xattr.'):]: v for k, v in mi.pax_headers.items() if k.startswith('SCHILY.xattr.user.')}
            if mi.islnk():
                seen[name] = seen[os.path.normpath(mi.linkname)]
                r = seen[name]; line(name, *r); continue
            t = {tarfile.DIRTYPE: 'd', tarfile.SYMTYPE: 'l', tarfile.CHRTYPE: 'c', tarfile.BLKTYPE: 'b', tarfile.FIFOTYPE: 'p'}.get(mi.type, 'f')
            extra = ''
            if t == 'f': extra = hashlib.sha256(tf.extractfile(mi).read()).hexdigest()[:16]
            elif t == 'l': extra = mi.linkname
            elif t in 'cb': extra = '%d,%d' % (mi.devmajor, mi.devminor)
            r = (t, mi.mode & 0o7777, mi.uid, mi.gid, mi.size if t == 'f' else 0, extra, xattrs)
            seen[name] = r; line(name, *r)
for k in sorted(out): print(out[k])
PY
