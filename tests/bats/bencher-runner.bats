#!/usr/bin/env bats
# bencher-runner as a user sees it where no VM is needed: the command line,
# `prepare` (image -> cached rootfs), the errors found before a VM starts,
# and `check`. Runs that boot a VM are the scenario suites
# (tests/bats/scenarios/, run by tests/kvm.tap).

load helpers
load images

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/img
	make_busybox_image "$IMG" latest echo hello >/dev/null
	make_busybox_image "$IMG" nocmd >/dev/null
	umoci config --image "$IMG:nocmd" --clear=config.cmd >/dev/null
}

setup() {
	export BENCHER_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	export TMPDIR=$BATS_TEST_TMPDIR
}

@test "every program's --version names the package version configure set" {
	run bencher-runner --version
	assert_eq 0 "$status"
	local want=${output#bencher-runner }
	[[ $want == [0-9]* ]]
	local p
	for p in oci-unpack mkrootfs bencher-jailer bencher-vmm collect-results bencher-plan bencher-init; do
		run "$abs_top_builddir/$p" --version
		assert_eq 0 "$status"
		assert_eq "$p (bencher-runner) $want" "$output"
	done
}

@test "--help, --version, and usage errors exit 2" {
	run bencher-runner --help
	assert_eq 0 "$status"
	assert_contains "$output" "Usage: bencher-runner run --image IMAGE"
	for o in --entrypoint --cmd --env --workdir --user --timeout --vcpus --memory --disk --output \
		--max-output-size --iterations --allow-failure --kernel --results --keep --dry-run; do
		assert_contains "$output" "$o"
	done
	run bencher-runner --version
	assert_eq 0 "$status"
	[[ $output == "bencher-runner "[0-9]* ]]
	run bencher-runner
	assert_eq 2 "$status"
	run bencher-runner frobnicate
	assert_eq 2 "$status"
	assert_eq "bencher-runner: frobnicate: unknown command (run, prepare or check) (try --help)" "$output"
	run bencher-runner run
	assert_eq 2 "$status"
	assert_contains "$output" "run: --image is required"
	run bencher-runner run --image "$IMG" --vcpus 33
	assert_eq 2 "$status"
	assert_contains "$output" "--vcpus: '33': expected 1 to 32"
	run bencher-runner run --image "$IMG" --env NOEQUALS
	assert_eq 2 "$status"
	run bencher-runner run --image "$IMG" --timeout soon
	assert_eq 2 "$status"
	run bencher-runner run --image "$IMG" --bogus
	assert_eq 2 "$status"
	assert_contains "$output" "run: --bogus: unknown option"
}

@test "prepare builds a bootable rootfs once, then hits the cache" {
	run bencher-runner prepare --image "$IMG:latest" --log-level info
	assert_eq 0 "$status"
	assert_contains "$output" "rootfs cache miss"
	rootfs=$(printf '%s\n' "$output" | tail -n 1)
	[[ $rootfs == "$BENCHER_CACHE_DIR"/rootfs/*.ext4 ]]
	e2fsck -fn "$rootfs" >/dev/null
	# bencher-init is in place, executable.
	assert_contains "$(debugfs -R 'stat /bencher/init' "$rootfs" 2>/dev/null)" "Mode:  0755"
	inode=$(stat -c %i.%Y "$rootfs")
	run bencher-runner prepare --image "$IMG:latest" --log-level info
	assert_eq 0 "$status"
	assert_contains "$output" "rootfs cache hit: $rootfs"
	assert_eq "$inode" "$(stat -c %i.%Y "$rootfs")"
	# Another disk size is another entry.
	run bencher-runner prepare --image "$IMG:latest" --disk 128M
	assert_eq 0 "$status"
	[ "$(printf '%s\n' "$output" | tail -n 1)" != "$rootfs" ]
	assert_eq 2 "$(find "$BENCHER_CACHE_DIR/rootfs" -name '*.ext4' | wc -l)"
	# No lock or temp file left behind.
	assert_eq 2 "$(find "$BENCHER_CACHE_DIR/rootfs" -type f | wc -l)"
	[ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 'bencher-run.*')" ]
}

@test "an image with no Entrypoint or Cmd fails before any VM, exit 125" {
	run bencher-runner run --image "$IMG:nocmd"
	assert_eq 125 "$status"
	assert_contains "$output" "bencher-runner: $IMG:nocmd: no command: the image has no Entrypoint or Cmd (use --cmd)"
	[ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 'bencher-run.*')" ]
}

@test "an image that cannot be read is a runner error, exit 125" {
	run bencher-runner run --image "$BATS_TEST_TMPDIR/nowhere:latest"
	assert_eq 125 "$status"
	assert_contains "$output" "bencher-runner: $BATS_TEST_TMPDIR/nowhere:latest: cannot read the image"
	run bencher-runner run --image "$IMG:latest" --kernel /nonexistent/vmlinux
	assert_eq 125 "$status"
	assert_contains "$output" "kernel /nonexistent/vmlinux: not found"
}

@test "check reports KVM, user namespaces, cgroups, kernel and tools" {
	run bencher-runner check
	for k in "kvm:" "userns:" "cgroup:" "kernel:" "ready:"; do
		assert_contains "$output" "$k"
	done
	assert_contains "$output" "kernel:     $abs_top_builddir/kernel/vmlinux"
	if [ -d /sys/module/kvm_pvm ]; then
		# This kind of machine: /dev/kvm is there but cannot boot Linux.
		assert_eq 1 "$status"
		assert_contains "$output" "kvm:        no:"
		assert_contains "$output" "ready:      no"
	fi
}

@test "--dry-run: Docker's entrypoint/cmd rules, env, workdir and user, exactly" {
	make_busybox_image "$BATS_TEST_TMPDIR/cfg" t >/dev/null
	umoci config --image "$BATS_TEST_TMPDIR/cfg:t" --config.entrypoint /bin/ep --config.cmd a1 --config.cmd a2 \
		--config.env PATH=/bin --config.env KEEP=1 --config.env OVER=image --config.workingdir /srv \
		--config.user bench >/dev/null
	img=$BATS_TEST_TMPDIR/cfg:t
	plan() { bencher-runner run --image "$img" --dry-run "$@" | jq -c .run; }
	assert_eq '{"argv":["/bin/ep","a1","a2"],"env":["PATH=/bin","KEEP=1","OVER=image"],"workdir":"/srv","files":[],"max_output_bytes":26214400,"user":"bench"}' "$(plan)"
	# --cmd replaces Cmd, keeps Entrypoint; odd bytes survive as JSON.
	assert_eq '["/bin/ep","x\"y\\z","line\nnext\ttab","\u0001"]' \
		"$(plan --cmd 'x"y\z' --cmd "$(printf 'line\nnext\ttab')" --cmd "$(printf '\001')" | jq -c .argv)"
	# --entrypoint replaces Entrypoint and drops the image's Cmd.
	assert_eq '["/bin/true"]' "$(plan --entrypoint /bin/true | jq -c .argv)"
	assert_eq '["/bin/sh","-c","echo hi"]' "$(plan --entrypoint /bin/sh --cmd -c --cmd 'echo hi' | jq -c .argv)"
	# --env wins over the image's and adds; --workdir, --user, --output, limits.
	assert_eq '["PATH=/bin","KEEP=1","OVER=cli","NEW=2"]' "$(plan --env OVER=cli --env NEW=2 | jq -c .env)"
	assert_eq '"/tmp" "0:0" ["/out/a","/out/b"] 1024' \
		"$(plan --workdir /tmp --user 0:0 --output /out/a --output /out/b --max-output-size 1K |
			jq -r '[.workdir, .user, .files, .max_output_bytes] | map(tojson) | join(" ")')"
	# The rootfs it names is the cached one, and nothing is left behind.
	rootfs=$(bencher-runner run --image "$img" --dry-run | jq -r .rootfs)
	[[ $rootfs == "$BENCHER_CACHE_DIR"/rootfs/*.ext4 ]] && [ -f "$rootfs" ]
	[ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 'bencher-run.*')" ]
}

@test "--dry-run: an empty --entrypoint clears it, a repeated --env keeps its last value, --workdir is absolute" {
	make_busybox_image "$BATS_TEST_TMPDIR/cfg" t >/dev/null
	umoci config --image "$BATS_TEST_TMPDIR/cfg:t" --config.entrypoint /bin/ep --config.cmd a1 \
		--config.env A=image --config.env B=image >/dev/null
	img=$BATS_TEST_TMPDIR/cfg:t
	plan() { bencher-runner run --image "$img" --dry-run "$@" | jq -c .run; }
	# docker run --entrypoint="" IMAGE CMD: no Entrypoint, and still no image Cmd.
	assert_eq '["sh","-c","echo hi"]' "$(plan --entrypoint '' --cmd sh --cmd -c --cmd 'echo hi' | jq -c .argv)"
	run bencher-runner run --image "$img" --dry-run --entrypoint ''
	assert_eq 125 "$status"
	assert_contains "$output" "no command: the image has no Entrypoint or Cmd (use --cmd)"
	assert_eq '["PATH=/bin","B=image","A=2","C=3"]' "$(plan --env A=1 --env C=3 --env A=2 | jq -c .env)"
	run bencher-runner run --image "$img" --workdir rel
	assert_eq 2 "$status"
	assert_eq "bencher-runner: --workdir: 'rel': expected an absolute path (try --help)" "$output"
	# Failures before the VM leave no run directory behind.
	run bencher-runner run --image "$img" --kernel /nonexistent/vmlinux
	assert_eq 125 "$status"
	[ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 'bencher-run.*')" ]
}

@test "bencher-plan: its assignments survive eval whatever the bytes, and it plans without jq" {
	odd=$(printf "it's \$(touch %s/pwned) \`x\` \\\\ \"q\"\nline" "$BATS_TEST_TMPDIR")
	vars=$(bencher-plan -- run --image "$odd" --output-dir "$odd" --timeout 010)
	eval "$vars"
	assert_eq "$odd" "$image"
	assert_eq "$odd" "$output_dir"
	assert_eq 10 "$timeout"
	[ ! -e "$BATS_TEST_TMPDIR/pwned" ]
	run bencher-plan -- run --image x --vcpus 33
	assert_eq 2 "$status"
	assert_eq "bencher-runner: --vcpus: '33': expected 1 to 32 (try --help)" "$output"
	# The plan from oci-unpack's summary, as the runner asks for it.
	oci-unpack --config-only --config-out "$BATS_TEST_TMPDIR/image.json" "$IMG:latest"
	vars=$(bencher-plan --image-config "$BATS_TEST_TMPDIR/image.json" --init "$abs_top_builddir/bencher-init" \
		--cache-dir "$BENCHER_CACHE_DIR" --run-out "$BATS_TEST_TMPDIR/run.json" -- run --image "$IMG:latest")
	eval "$vars"
	[[ $image_digest == sha256:* ]]
	[[ $rootfs == "$BENCHER_CACHE_DIR"/rootfs/*.ext4 ]]
	assert_eq '{"argv":["echo","hello"],"env":["PATH=/bin"],"workdir":"/","files":[],"max_output_bytes":26214400}' \
		"$(cat "$BATS_TEST_TMPDIR/run.json")"
	# A summary that is not oci-unpack's is refused, naming the field.
	printf '{"cmd": "echo hi", "image_digest": "sha256:1"}' > "$BATS_TEST_TMPDIR/bad.json"
	run bencher-plan --image-config "$BATS_TEST_TMPDIR/bad.json" --init "$abs_top_builddir/bencher-init" \
		--cache-dir "$BENCHER_CACHE_DIR" -- run --image x
	assert_eq 1 "$status"
	assert_contains "$output" "bad.json: cmd: expected an array, got a string"
}

@test "prepare: an image of many tiny files outgrows its estimate and is built again, sized from the stream" {
	# 40 x 1500 empty files: the gzip layer is tiny next to its tar, so the
	# estimate is far too small, and mkrootfs runs out of inodes on it.
	python3 - "$BATS_TEST_TMPDIR/tiny.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    for d in range(40):
        t = tarfile.TarInfo('d%d' % d); t.type = tarfile.DIRTYPE; t.mode = 0o755; tf.addfile(t)
        for i in range(1500):
            tf.addfile(tarfile.TarInfo('d%d/f%d' % (d, i)))
PY
	gzip "$BATS_TEST_TMPDIR/tiny.tar"
	local img=$BATS_TEST_TMPDIR/tiny
	new_image "$img" t >/dev/null
	add_layer "$img" t "$BATS_TEST_TMPDIR/tiny.tar.gz" >/dev/null
	run bencher-runner prepare --image "$img:t" --log-level info
	assert_eq 0 "$status"
	assert_contains "$output" "the size estimate was too small: building again, sized from the stream"
	[[ $output != *"out of space"* ]] || die "the retried attempt's error was shown: $output"
	rootfs=$(printf '%s\n' "$output" | tail -n 1)
	e2fsck -fn "$rootfs" >/dev/null
	assert_eq 1500 "$(debugfs -R 'ls -p /d39' "$rootfs" 2>/dev/null | grep -c '/f[0-9]*/')"
}
