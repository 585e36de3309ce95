#!/usr/bin/env bats
# oci-unpack as a user sees it: images built with umoci (tests/bats/images.bash),
# the flattened stream compared entry by entry with umoci's own unpack, every
# image form, registry pulls (anonymous and token auth) from Debian's
# docker-registry, and every kind of bad input with its exit code.

load helpers
load images

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/img
	make_layered_image "$IMG" latest >/dev/null 2>&1
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	stop_registry 2>/dev/null || true
	if [ -n "${PROXY_PID:-}" ]; then kill "$PROXY_PID" 2>/dev/null || true; fi
}

# A copy of the layered image to damage.
copy_image() {
	cp -a "$IMG" "$BATS_TEST_TMPDIR/bad"
	echo "$BATS_TEST_TMPDIR/bad"
}

# An image whose top layer is the tar built from SPEC on stdin.
image_with_layer() {
	local dir
	dir=$(copy_image)
	make_layer_tar "$BATS_TEST_TMPDIR/layer.tar" || return 1
	gzip -n -c "$BATS_TEST_TMPDIR/layer.tar" >"$BATS_TEST_TMPDIR/layer.tgz"
	oci_set_layer "$dir" latest append "$BATS_TEST_TMPDIR/layer.tgz" >/dev/null || return 1
	echo "$dir"
}

@test "--help, --version and usage errors" {
	run oci-unpack --help
	[ "$status" -eq 0 ]
	assert_contains "$output" "Usage: oci-unpack"
	run oci-unpack --version
	[ "$status" -eq 0 ]
	assert_contains "$output" "oci-unpack"
	run oci-unpack
	[ "$status" -eq 2 ]
	run oci-unpack --platform linux "$IMG"
	[ "$status" -eq 2 ]
	assert_contains "$output" "--platform"
	run oci-unpack -o x.tar --output-dir d "$IMG"
	[ "$status" -eq 2 ]
	run oci-unpack "$IMG" extra
	[ "$status" -eq 2 ]
}

@test "options after the image are read, as GNU tools read them; -- ends them" {
	run oci-unpack "$IMG" --config-only --config-out cfg.json
	assert_eq 0 "$status"
	assert_eq "" "$output"
	run jq -r '.image_digest | startswith("sha256:")' cfg.json
	assert_eq true "$output"
	run oci-unpack -- "$IMG" --config-only
	assert_eq 2 "$status"
	assert_eq "oci-unpack: expected one IMAGE (try --help)" "$output"
}

@test "refuses to write the stream to a terminal" {
	command -v script >/dev/null || skip "script(1) not installed"
	run script -qec "oci-unpack $IMG" /dev/null
	[ "$status" -eq 2 ]
	assert_contains "$output" "terminal"
}

@test "flattened layered image equals umoci raw unpack, entry by entry" {
	oci-unpack "$IMG" >out.tar
	tree_manifest out.tar >ours
	# every rule is exercised: check a few facts outright
	grep -q '^app/gone f 0644 0:0 5 ' ours
	run grep -c '^app/gonedir' ours
	assert_eq 0 "$output"
	run grep -c '^app/opaque/old' ours
	assert_eq 0 "$output"
	grep -q '^app/replaced-by-dir d 0750 ' ours
	run grep -c '^app/replaced-by-file/child' ours
	assert_eq 0 "$output"
	grep -q '^app/link1 f 0644 0:0 17 ' ours
	grep -q '^app/attrs d 0751 7:8 ' ours
	grep -q '^app/null c 0666 0:0 0 1,3 ' ours
	grep -q '^app/suid f 4755 ' ours
	grep -q 'user.other=world,user.test=hello' ours
	run bash -c "tar -tf out.tar | grep -c '\\.wh\\.'"
	assert_eq 0 "$output"
	umoci raw unpack --rootless --image "$IMG:latest" rootless >/dev/null 2>&1
	# rootless umoci turns devices into empty files and owns everything itself
	diff <(tree_manifest out.tar noowner | grep -v '^app/null \|^app/blk ') \
		<(tree_manifest rootless noowner | grep -v '^app/null \|^app/blk ')
	if [ "$(id -u)" -eq 0 ]; then
		umoci raw unpack --image "$IMG:latest" full >/dev/null 2>&1
		diff ours <(tree_manifest full)
	fi
}

@test "--config-out writes the documented keys" {
	oci-unpack --config-out cfg.json "$IMG" >/dev/null
	assert_eq 'entrypoint,cmd,env,working_dir,user,image_digest,config_digest,platform' \
		"$(jq -r 'keys_unsorted | join(",")' cfg.json)"
	assert_eq '["/bin/sh"]' "$(jq -c .cmd cfg.json)"
	assert_eq 'PATH=/bin' "$(jq -r '.env[0]' cfg.json)"
	assert_eq "$(jq -r '.manifests[0].digest' "$IMG/index.json")" "$(jq -r .image_digest cfg.json)"
	assert_eq amd64 "$(jq -r .platform.architecture cfg.json)"
}

@test "--config-only resolves the image without reading a layer" {
	oci-unpack --config-out full.json "$IMG" >/dev/null
	bad=$(copy_image)
	# Damage every layer: a run that read one would fail its digest check.
	for blob in $(oci_layer_blobs "$bad" latest); do
		chmod u+w "$blob"
		printf 'garbage' >"$blob"
	done
	run oci-unpack --config-only --config-out only.json "$bad"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	cmp full.json only.json
	run oci-unpack --config-only "$IMG"
	[ "$status" -eq 2 ]
	assert_contains "$output" "--config-only needs --config-out FILE"
	run oci-unpack --config-only --config-out x.json -o x.tar "$IMG"
	[ "$status" -eq 2 ]
	[ ! -e x.tar ]
}

@test "--estimate adds the flattened tree's size to --config-out, reading no layer" {
	oci-unpack --config-out plain.json "$IMG" >flat.tar
	oci-unpack --config-only --estimate --config-out est.json "$IMG"
	# the documented keys, then the estimate
	assert_eq "$(jq -c 'del(.estimate)' est.json)" "$(jq -c . plain.json)"
	bytes=$(jq -r .estimate.bytes est.json)
	entries=$(jq -r .estimate.entries est.json)
	# every layer's tar, read from the gzip trailers: at least the flattened stream
	[ "$bytes" -ge "$(stat -c %s flat.tar)" ]
	[ "$bytes" -lt $(($(stat -c %s flat.tar) * 4)) ]
	[ "$entries" -ge 1 ]
	oci-unpack --estimate --config-out full.json "$IMG" >/dev/null
	cmp est.json full.json
	run oci-unpack --estimate "$IMG"
	[ "$status" -eq 2 ]
	assert_contains "$output" "--estimate needs --config-out FILE"
}

@test "--output-dir extracts the same tree" {
	oci-unpack "$IMG" >out.tar
	oci-unpack --output-dir tree --config-out cfg.json "$IMG"
	[ -s cfg.json ] && [ ! -e tree/cfg.json ]
	if [ "$(id -u)" -eq 0 ]; then
		diff <(tree_manifest out.tar) <(tree_manifest tree)
	else
		diff <(tree_manifest out.tar noowner nodev) <(tree_manifest tree noowner nodev)
	fi
}

@test "-o FILE equals stdout, and a failure leaves no file" {
	oci-unpack "$IMG" >stdout.tar
	oci-unpack -o file.tar "$IMG"
	cmp stdout.tar file.tar
	bad=$(copy_image)
	blob=$(oci_layer_blobs "$bad" latest | tail -n 2 | head -n 1)
	printf 'X' | dd of="$blob" bs=1 seek=20 conv=notrunc 2>/dev/null
	run oci-unpack -o fail.tar "$bad"
	[ "$status" -eq 4 ]
	[ ! -e fail.tar ]
	local f
	for f in *fail.tar*; do [ ! -e "$f" ] || die "left behind: $f"; done
}

@test "a failure in the bottom layer on stdout leaves no end-of-archive marker" {
	bad=$(copy_image)
	blob=$(oci_layer_blobs "$bad" latest | head -n 1)
	# flip a byte near the end: the stream is well under way when it shows
	size=$(stat -c %s "$blob")
	printf 'X' | dd of="$blob" bs=1 seek=$((size - 12)) conv=notrunc 2>/dev/null
	run bash -c "oci-unpack '$bad' >partial.tar"
	[ "$status" -eq 4 ]
	assert_contains "$output" "sha256:"
	[ "$(tail -c 1024 partial.tar | tr -d '\0' | wc -c)" -ne 0 ] || [ ! -s partial.tar ]
}

@test "docker-save tarball, its directory, a gzipped one and an oci-archive give the same stream" {
	oci-unpack "$IMG" >ref.tar
	skopeo copy --quiet "oci:$IMG:latest" docker-archive:d.tar:test/img:v1
	skopeo copy --quiet "oci:$IMG:latest" oci-archive:o.tar:v1
	mkdir d && tar -xf d.tar -C d
	gzip -c d.tar >d.tar.gz
	for src in d.tar d.tar:test/img:v1 d.tar:v1 d d.tar.gz o.tar o.tar:v1 oci-archive:o.tar; do
		oci-unpack "$src" >x.tar
		diff <(tree_manifest ref.tar) <(tree_manifest x.tar) || die "$src differs"
	done
	run oci-unpack d.tar:nope
	[ "$status" -eq 3 ]
	assert_contains "$output" "test/img:v1"
}

@test "DIR:TAG and DIR@DIGEST select an image; an unknown one exits 3" {
	cp -a "$IMG" two
	make_busybox_image two other /bin/echo hi >/dev/null 2>&1
	run oci-unpack two
	[ "$status" -eq 3 ]
	assert_contains "$output" "several images"
	oci-unpack --config-out a.json two:other >/dev/null
	assert_eq '["/bin/echo","hi"]' "$(jq -c .cmd a.json)"
	d=$(jq -r .image_digest a.json)
	oci-unpack --config-out b.json "two@$d" >/dev/null
	cmp a.json b.json
	run oci-unpack two:missing
	[ "$status" -eq 3 ]
	assert_contains "$output" "no image tagged 'missing'"
	run oci-unpack "two@sha256:$(printf '%064d' 0)"
	[ "$status" -eq 3 ]
	run oci-unpack ./no/such/dir
	[ "$status" -eq 3 ]
}

@test "--digest takes the image resolved earlier, though its tag has moved" {
	cp -a "$IMG" moved
	oci-unpack --config-only --config-out first.json moved:latest
	oci-unpack moved:latest >first.tar
	d=$(jq -r .image_digest first.json)
	# retag: "latest" now names another image
	make_busybox_image moved latest /bin/echo moved >/dev/null 2>&1
	oci-unpack --config-out now.json moved:latest >/dev/null
	[ "$(jq -r .image_digest now.json)" != "$d" ]
	oci-unpack --digest "$d" --config-out again.json moved:latest >again.tar
	cmp first.json again.json
	diff <(tree_manifest first.tar) <(tree_manifest again.tar)
	oci-unpack --digest "$d" moved | cmp - first.tar
	run oci-unpack --digest "sha256:$(printf '%064d' 0)" moved:latest
	[ "$status" -eq 3 ]
	assert_contains "$output" "no manifest sha256:0000"
	run oci-unpack --digest nope moved
	[ "$status" -eq 2 ]
	# a classic docker-save image is named by its config digest
	skopeo copy --quiet "oci:$IMG:latest" docker-archive:d.tar:test/img:v1
	oci-unpack --config-only --config-out d.json d.tar
	[ "$(jq -r .image_digest d.json)" = null ]
	oci-unpack --digest "$(jq -r .config_digest d.json)" d.tar:test/img:v1 | cmp - first.tar
	run oci-unpack --digest "$d" d.tar
	[ "$status" -eq 3 ]
	assert_contains "$output" "no image with config $d"
}

@test "--digest pulls the manifest by digest from a registry whose tag moved" {
	start_registry
	cp -a "$IMG" other
	make_busybox_image other latest /bin/echo other >/dev/null 2>&1
	push_image "$IMG" latest test/img:v1
	oci-unpack --insecure --cache-dir cache --config-only --config-out first.json "$REGISTRY_ADDR/test/img:v1"
	push_image other latest test/img:v1
	oci-unpack --insecure --cache-dir cache --config-only --config-out now.json "$REGISTRY_ADDR/test/img:v1"
	[ "$(jq -r .image_digest now.json)" != "$(jq -r .image_digest first.json)" ]
	oci-unpack --insecure --cache-dir cache --digest "$(jq -r .image_digest first.json)" \
		--config-out again.json "$REGISTRY_ADDR/test/img:v1" >pulled.tar
	cmp first.json again.json
	oci-unpack "$IMG" >ref.tar
	diff <(tree_manifest ref.tar) <(tree_manifest pulled.tar)
	run oci-unpack --insecure --cache-dir cache --digest "sha256:$(printf '%064d' 0)" "$REGISTRY_ADDR/test/img:v1"
	[ "$status" -eq 3 ]
}

@test "a multi-platform index: --platform picks, a missing platform exits 3" {
	cp -a "$IMG" multi
	make_busybox_image multi arm /bin/echo arm >/dev/null 2>&1
	amd=$(jq -c '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | del(.annotations) + {platform: {os: "linux", architecture: "amd64"}}' multi/index.json)
	arm=$(jq -c '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "arm") | del(.annotations) + {platform: {os: "linux", architecture: "arm64", variant: "v8"}}' multi/index.json)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' "$amd" "$arm" >idx
	hex=$(sha256sum idx | cut -d' ' -f1)
	cp idx "multi/blobs/sha256/$hex"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"multi"}}]}' \
		"$hex" "$(stat -c %s idx)" >multi/index.json
	oci-unpack --platform linux/arm64 --config-out arm.json multi:multi >/dev/null
	assert_eq '["/bin/echo","arm"]' "$(jq -c .cmd arm.json)"
	oci-unpack --platform linux/amd64 --config-out amd.json multi:multi >/dev/null
	assert_eq '["/bin/sh"]' "$(jq -c .cmd amd.json)"
	run oci-unpack --platform linux/s390x multi:multi
	[ "$status" -eq 3 ]
	assert_contains "$output" "available: linux/amd64, linux/arm64/v8"
}

@test "zstd and uncompressed layers" {
	dir=$(copy_image)
	printf 'file z zstd-layer\n' | make_layer_tar z.tar
	zstd -q z.tar -o z.tar.zst
	oci_set_layer "$dir" latest append z.tar.zst application/vnd.oci.image.layer.v1.tar+zstd >/dev/null
	printf 'file u plain-layer\n' | make_layer_tar u.tar
	oci_set_layer "$dir" latest append u.tar application/vnd.oci.image.layer.v1.tar >/dev/null
	oci-unpack "$dir" >out.tar
	assert_eq zstd-layer "$(tar -xOf out.tar z)"
	assert_eq plain-layer "$(tar -xOf out.tar u)"
}

@test "registry pull over plain http; a second pull downloads nothing" {
	start_registry
	push_image "$IMG" latest test/img:v1
	oci-unpack "$IMG" >ref.tar
	run oci-unpack --insecure --cache-dir cache --log-level info "docker://$REGISTRY_ADDR/test/img:v1"
	[ "$status" -eq 0 ]
	assert_contains "$output" "downloading"
	oci-unpack --insecure --cache-dir cache "$REGISTRY_ADDR/test/img:v1" >pulled.tar
	diff <(tree_manifest ref.tar) <(tree_manifest pulled.tar)
	run oci-unpack --insecure --cache-dir cache --log-level info "$REGISTRY_ADDR/test/img:v1"
	[ "$status" -eq 0 ]
	[[ "$output" != *downloading* ]] || die "second pull downloaded: $output"
	assert_contains "$output" ": cached"
	# the cache is keyed by digest: every file is named by its content
	for f in cache/sha256/*; do assert_eq "$(basename "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"; done
	run oci-unpack --insecure --cache-dir cache "$REGISTRY_ADDR/test/img:nope"
	[ "$status" -eq 3 ]
	run oci-unpack --cache-dir cache "$REGISTRY_ADDR/test/img:v1"
	[ "$status" -eq 6 ]
	run oci-unpack --insecure --cache-dir cache "example.com/test/img:v1"
	[ "$status" -eq 2 ]
	assert_contains "$output" "loopback"
}

@test "a corrupted cache entry is caught, not trusted" {
	start_registry
	push_image "$IMG" latest test/img:v1
	oci-unpack --insecure --cache-dir cache "$REGISTRY_ADDR/test/img:v1" >/dev/null
	# shellcheck disable=SC2012 # blob names are hex digests
	blob=$(ls -S cache/sha256/* | head -n 1)
	printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	run oci-unpack --insecure --cache-dir cache "$REGISTRY_ADDR/test/img:v1"
	[ "$status" -eq 4 ]
	assert_contains "$output" "digest mismatch"
}

# A bearer-token front for the registry: /v2/ wants "Bearer tok123", the
# token endpoint checks the repeated scope parameters (GET) or the OAuth2
# form (POST, when started with "post").
start_token_proxy() {
	cat >proxy.py <<'PY'
import json, sys, urllib.parse, urllib.request, urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, upstream, mode, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], open(sys.argv[4], 'a', buffering=1)
SCOPES = ['repository:test/img:pull', 'repository:other/img:pull']
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body=b'', headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def token(self, q):
        ok = q.get('service') == ['test-registry'] and sorted(q.get('scope', [])) == sorted(SCOPES)
        log.write('%s %s %s\n' % (self.command, ok, json.dumps(q)))
        if not ok: return self.reply(400)
        self.reply(200, json.dumps({'token' if self.command == 'GET' else 'access_token': 'tok123'}).encode())
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()
        q = urllib.parse.parse_qs(body)
        q['scope'] = ' '.join(q.get('scope', [])).split()
        self.token(q)
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == '/token':
            if mode == 'post': return self.reply(405)
            return self.token(urllib.parse.parse_qs(u.query))
        if self.headers.get('Authorization') != 'Bearer tok123':
            chal = 'Bearer realm="http://127.0.0.1:%d/token",service="test-registry",scope="%s"' % (port, ' '.join(SCOPES))
            return self.reply(401, b'{}', [('WWW-Authenticate', chal)])
        req = urllib.request.Request('http://' + upstream + self.path, headers={'Accept': self.headers.get('Accept', '*/*')})
        try:
            with urllib.request.urlopen(req) as r:
                self.reply(r.status, r.read(), [('Content-Type', r.headers.get('Content-Type', ''))])
        except urllib.error.HTTPError as e:
            self.reply(e.code, e.read())
ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
PY
	PROXY_PORT=$(free_port)
	python3 proxy.py "$PROXY_PORT" "$REGISTRY_ADDR" "$1" tokens.log &
	PROXY_PID=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/v2/" && return 0
		sleep 0.1
	done
	return 1
}

@test "registry with bearer-token auth: challenge, repeated scope (GET)" {
	start_registry
	push_image "$IMG" latest test/img:v1
	start_token_proxy get
	oci-unpack --insecure --cache-dir cache "127.0.0.1:$PROXY_PORT/test/img:v1" >pulled.tar
	grep -q '^GET True' tokens.log
	oci-unpack "$IMG" >ref.tar
	diff <(tree_manifest ref.tar) <(tree_manifest pulled.tar)
}

@test "registry with bearer-token auth: the POST token form" {
	start_registry
	push_image "$IMG" latest test/img:v1
	start_token_proxy post
	oci-unpack --insecure --cache-dir cache "127.0.0.1:$PROXY_PORT/test/img:v1" >/dev/null
	grep -q '^POST True' tokens.log
}

@test "digest mismatch exits 4 naming the blob" {
	bad=$(copy_image)
	blob=$(oci_layer_blobs "$bad" latest | tail -n 1)
	echo junk >>"$blob"
	run oci-unpack "$bad"
	[ "$status" -eq 4 ]
	assert_contains "$output" "layer sha256:$(basename "$blob")"
	assert_contains "$output" "size mismatch"
}

@test "missing blob exits 3, malformed index exits 1, unknown media type exits 1" {
	bad=$(copy_image)
	rm "$(oci_layer_blobs "$bad" latest | head -n 1)"
	run oci-unpack "$bad"
	[ "$status" -eq 3 ]
	assert_contains "$output" "missing"
	cp -a "$IMG" mal
	echo '{"schemaVersion":2,"manifests":[{"digest":' >mal/index.json
	run oci-unpack mal
	[ "$status" -eq 1 ]
	assert_contains "$output" "index.json"
	cp -a "$IMG" odd
	printf 'file a 1\n' | make_layer_tar a.tar
	oci_set_layer odd latest append a.tar application/x-rar >/dev/null
	run oci-unpack odd
	[ "$status" -eq 1 ]
	assert_contains "$output" "unknown layer media type"
	run oci-unpack "$BATS_TEST_TMPDIR"
	[ "$status" -eq 3 ]
}

@test "path traversal, absolute paths and '..' whiteouts exit 5 naming blob and path" {
	dir=$(printf 'raw ../escape file\n' | image_with_layer)
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "layer sha256:"
	assert_contains "$output" "../escape: path traversal"
	rm -rf "$dir"
	dir=$(printf 'raw /etc/evil file\n' | image_with_layer)
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "/etc/evil: absolute path"
	rm -rf "$dir"
	dir=$(printf 'raw app/.wh... file\n' | image_with_layer)
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "whiteout names '..'"
}

@test "links out of the root and paths through symlinks exit 5" {
	dir=$(printf 'raw app/evil hardlink ../../etc/shadow\n' | image_with_layer)
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "path traversal"
	rm -rf "$dir"
	dir=$(printf 'symlink app/out ../../../etc\n' | image_with_layer)
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "points outside the root"
	rm -rf "$dir"
	# app/sym is a symlink in a lower layer: writing through it is refused
	dir=$(printf 'file app/sym/x boom\n' | image_with_layer)
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "app/sym/x: parent 'app/sym' is not a directory"
	rm -rf "$dir"
	dir=$(printf 'file dup 1\nfile dup 2\n' | image_with_layer)
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "dup: duplicate entry"
}

@test "truncated compression exits 4" {
	dir=$(copy_image)
	printf 'big data 300000\n' | make_layer_tar t.tar
	gzip -c t.tar | head -c 20000 >t.tgz
	oci_set_layer "$dir" latest append t.tgz >/dev/null
	run oci-unpack "$dir"
	[ "$status" -eq 4 ]
	assert_contains "$output" "layer sha256:"
}

@test "a decompression bomb exits 5; --max-size raises the limit" {
	dir=$(copy_image)
	truncate -s 300M zeros
	tar -cf - zeros | gzip -9 >bomb.tgz
	rm zeros
	oci_set_layer "$dir" latest append bomb.tgz >/dev/null
	run oci-unpack "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "decompression bomb"
	run oci-unpack --max-size 100M "$dir"
	[ "$status" -eq 5 ]
	assert_contains "$output" "--max-size"
	oci-unpack --max-size 128G "$dir" | tar -t | grep -q '^zeros$'
}

@test "a docker-save manifest cannot reach outside the image" {
	skopeo copy --quiet "oci:$IMG:latest" docker-archive:d.tar:test/img:v1
	mkdir d && tar -xf d.tar -C d
	cp -a d up
	jq -c '.[0].Layers[0] = "../../../../etc/passwd"' d/manifest.json >up/manifest.json
	run oci-unpack up
	[ "$status" -eq 5 ]
	assert_contains "$output" "path traversal"
	cp -a d sym
	ln -s /etc/passwd sym/evil.tar
	jq -c '.[0].Layers[0] = "evil.tar"' d/manifest.json >sym/manifest.json
	run oci-unpack sym
	[ "$status" -eq 3 ]
	assert_contains "$output" "evil.tar"
}
