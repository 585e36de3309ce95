# scenario-helpers.bash: shared by the scenario suites. Each scenario builds
# its image with umoci (no Docker engine here), runs `bencher-runner run` in a
# real KVM guest, and asserts exact output, exit code and metrics.
load ../helpers
load ../images

# A busybox-static image with every applet linked, plus /etc/passwd and
# /etc/group that know a user "bench" (1000:1000).
# full_busybox_spec TMPDIR
full_busybox_spec() {
	local a
	printf 'root:x:0:0:root:/root:/bin/sh\nbench:x:1000:1000::/home/bench:/bin/sh\n' > "$1/passwd"
	printf 'root:x:0:\nbench:x:1000:\n' > "$1/group"
	printf '%s\n' 'dir bin' 'dir etc' 'dir tmp 1777' 'dir root 0700' 'dir home' 'dir home/bench 0755 1000 1000' \
		"file bin/busybox @$BUSYBOX 0755" "file etc/passwd @$1/passwd" "file etc/group @$1/group"
	for a in $("$BUSYBOX" --list); do
		[ "$a" = busybox ] || echo "symlink bin/$a busybox"
	done
}

# make_scenario_image DIR TAG [umoci config options...]
# The image's default config: PATH=/bin, workdir /, no Cmd or Entrypoint.
make_scenario_image() {
	local dir=$1 tag=$2 tmp rc=0
	shift 2
	tmp=$(mktemp -d) || return 1
	if ! { full_busybox_spec "$tmp" | make_layer_tar "$tmp/base.tar" &&
		new_image "$dir" "$tag" &&
		add_layer "$dir" "$tag" "$tmp/base.tar" &&
		set_config "$dir" "$tag" --config.env PATH=/bin --config.workingdir / "$@"; }; then
		rc=1
	fi
	rm -rf "$tmp"
	return "$rc"
}

# The images every suite shares ($IMAGES:TAG, see ./prepare) and a rootfs
# cache already holding them, built once for all suites.
scenario_setup_file() {
	export SCENARIO_DIR=${SCENARIO_DIR:-$abs_top_builddir/tests/scenario-data}
	"$abs_top_srcdir/tests/bats/scenarios/prepare" "$SCENARIO_DIR"
	export IMAGES=$SCENARIO_DIR/images
	export BENCHER_CACHE_DIR=$SCENARIO_DIR/cache
}

# run_vm ARGS...: bencher-runner run ARGS with stdout, stderr and the results
# JSON kept apart: sets $status, $out, $err, and $RESULTS (a file).
run_vm() {
	RESULTS=$BATS_TEST_TMPDIR/results.json
	rm -f "$RESULTS"
	local rc=0
	bencher-runner run --results "$RESULTS" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	status=$rc
	out=$(cat "$BATS_TEST_TMPDIR/out")
	err=$(cat "$BATS_TEST_TMPDIR/err")
}

# The metrics JSON from the last run's stderr.
metrics() {
	sed -n 's/^---BENCHER_METRICS:\(.*\)---$/\1/p' "$BATS_TEST_TMPDIR/err" | tail -n 1
}

# metric KEY: one field of the metrics JSON, as jq prints it.
metric() {
	metrics | jq -r ".$1"
}

# result KEY: one field of the results JSON.
result() {
	jq -r ".$1" "$RESULTS"
}

# expect_status N: with the run's stderr shown on mismatch.
expect_status() {
	if [ "$status" -ne "$1" ]; then
		printf 'expected exit %s, got %s\nstdout: %s\nstderr: %s\n' "$1" "$status" "$out" "$err" >&2
		return 1
	fi
}
