#!/usr/bin/env bats
# Scenarios: the image's configuration (Docker semantics for Entrypoint and
# Cmd, env, user) and the command line's overrides; images of many layers,
# from a registry, and the rootfs cache.

load scenario-helpers

setup_file() { scenario_setup_file; }

@test "entrypoint_with_args: ENTRYPOINT and CMD are combined" {
	# shellcheck disable=SC2153 # IMAGES is set by scenario-helpers.bash
	run_vm --image "$IMAGES:ep-args"
	expect_status 0
	assert_eq "first second" "$out"
}

@test "entrypoint_only: exec-form ENTRYPOINT with no CMD" {
	run_vm --image "$IMAGES:ep-only"
	expect_status 0
	assert_eq "only-entrypoint" "$out"
}

@test "shell_form_cmd: CMD as /bin/sh -c STRING" {
	run_vm --image "$IMAGES:shell-cmd"
	expect_status 0
	assert_eq "SHELL 42" "$out"
}

@test "shell_form_entrypoint: ENTRYPOINT as /bin/sh -c STRING" {
	run_vm --image "$IMAGES:shell-ep"
	expect_status 0
	assert_eq "from-shell-entrypoint" "$out"
}

@test "entrypoint_shell_with_cmd: a shell-form ENTRYPOINT ignores CMD" {
	run_vm --image "$IMAGES:shell-ep-cmd"
	expect_status 0
	assert_eq "shell-wins" "$out"
}

@test "no_cmd_no_entrypoint: an image with nothing to run fails clearly" {
	run_vm --image "$IMAGES:base"
	expect_status 125
	assert_contains "$err" "bencher-runner: $IMAGES:base: no command: the image has no Entrypoint or Cmd (use --cmd)"
	assert_eq "" "$out"
}

@test "cli_entrypoint_override: --entrypoint replaces ENTRYPOINT and clears the image's CMD" {
	run_vm --image "$IMAGES:ep-false" --entrypoint echo
	expect_status 0
	assert_eq "" "$out"
	run_vm --image "$IMAGES:ep-false" --entrypoint echo --cmd from-cli
	expect_status 0
	assert_eq "from-cli" "$out"
}

@test "cli_cmd_override: --cmd replaces CMD and keeps ENTRYPOINT" {
	run_vm --image "$IMAGES:ep-cmd" --cmd cli-a --cmd "cli b"
	expect_status 0
	assert_eq "ep: cli-a cli b" "$out"
}

@test "cli_env_override: --env wins over the image's ENV and adds new ones" {
	run_vm --image "$IMAGES:env-override" --env FOO=cli --env NEW=added --cmd sh --cmd -c --cmd 'echo "$FOO $KEEP $NEW"'
	expect_status 0
	assert_eq "cli kept added" "$out"
}

@test "cli_workdir_override: --workdir wins over WORKDIR" {
	run_vm --image "$IMAGES:wd" --workdir /tmp --cmd pwd
	expect_status 0
	assert_eq "/tmp" "$out"
}

@test "image_user: the image's User is honoured, by name and by uid:gid" {
	run_vm --image "$IMAGES:user-named" --cmd sh --cmd -c --cmd 'echo $(id -u):$(id -g) $HOME'
	expect_status 0
	assert_eq "1000:1000 /home/bench" "$out"
	run_vm --image "$IMAGES:user-numeric" --cmd sh --cmd -c --cmd 'echo $(id -u):$(id -g)'
	expect_status 0
	assert_eq "1234:2345" "$out"
	# --user overrides it.
	run_vm --image "$IMAGES:user-named" --user 0 --cmd id --cmd -u
	assert_eq "0" "$out"
}

@test "multi_layer_image: every layer applied, whiteouts honoured" {
	run_vm --image "$IMAGES:multi-layer" --cmd sh --cmd -c --cmd 'cat /opt/a; ls /opt; ls /opt/d'
	expect_status 0
	assert_eq "two
a
d
y" "$out"
}

@test "image_with_symlinks: symlinks, relative and absolute, resolve in the guest" {
	run_vm --image "$IMAGES:symlinks" --cmd sh --cmd -c --cmd 'cat /data/rel /data/abs; readlink /data/dangling'
	expect_status 0
	assert_eq "target-content
target-content
/nowhere" "$out"
}

@test "file_permissions_preserved: modes, setuid bits and owners survive" {
	run_vm --image "$IMAGES:perms" --cmd sh --cmd -c --cmd 'cd /p && stat -c "%n %a %u:%g" . suid sgid sticky private'
	expect_status 0
	assert_eq ". 750 1000:1000
suid 4755 0:0
sgid 2711 0:1000
sticky 1777 0:0
private 600 1000:1000" "$out"
}

@test "registry_image: an image pulled from a loopback registry runs" {
	start_registry
	make_scenario_image "$BATS_TEST_TMPDIR/img" reg --config.cmd echo --config.cmd pulled-from-registry
	push_image "$BATS_TEST_TMPDIR/img" reg bench/reg:v1
	run_vm --image "docker://$REGISTRY_ADDR/bench/reg:v1" --insecure-registry
	stop_registry
	expect_status 0
	assert_eq "pulled-from-registry" "$out"
}

@test "rootfs_cache: a second run of the same image skips unpack and mkrootfs" {
	make_scenario_image "$BATS_TEST_TMPDIR/img" cache --config.cmd echo --config.cmd cached
	export BENCHER_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	BENCHER_LOG_LEVEL=info run_vm --image "$BATS_TEST_TMPDIR/img:cache"
	expect_status 0
	assert_contains "$err" "rootfs cache miss"
	images=$(find "$BENCHER_CACHE_DIR/rootfs" -name '*.ext4')
	[ "$(printf '%s\n' "$images" | wc -l)" -eq 1 ]
	before=$(stat -c %Y.%i "$images")
	BENCHER_LOG_LEVEL=info run_vm --image "$BATS_TEST_TMPDIR/img:cache"
	expect_status 0
	assert_eq "cached" "$out"
	assert_contains "$err" "rootfs cache hit"
	assert_eq "$before" "$(stat -c %Y.%i "$images")"
	# A different image is a different entry.
	make_scenario_image "$BATS_TEST_TMPDIR/img" other --config.cmd echo --config.cmd other
	bencher-runner prepare --image "$BATS_TEST_TMPDIR/img:other"
	assert_eq 2 "$(find "$BENCHER_CACHE_DIR/rootfs" -name '*.ext4' | wc -l)"
}
