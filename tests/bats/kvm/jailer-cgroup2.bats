#!/usr/bin/env bats
# bencher-jailer on a real cgroup v2 tree. Runs as root in the QEMU TCG test
# host (tests/kvm.tap, tests/vmhost/run), which mounts cgroup2 at
# /sys/fs/cgroup; the v1 side is tests/bats/jailer.bats on the dev machines.

load ../helpers
load ../jailer-helpers

setup_file() {
	# The kernel refuses user namespaces inside a chroot; then the root
	# tests jail without one and the unprivileged ones are skipped.
	if unshare -U true 2>/dev/null; then export USERNS=1; else export USERNS=0; fi
}

setup() {
	require_root
	[ "$(host_cgroup_version)" = 2 ] || skip "no cgroup v2 controllers here"
	ID=bats2-$$-$BATS_TEST_NUMBER
	CG=$(own_cgroup_dir "")
	SHARE=()
	[ "$USERNS" = 1 ] || SHARE=(--share user)
}

teardown() {
	local d p
	[ -z "${PUBLIC:-}" ] || rm -rf "$PUBLIC"
	for d in "$CG"/bats-busy-$$ "$CG"/bats-scope-$$; do
		[ -e "$d/cgroup.procs" ] || continue
		while read -r p; do kill -KILL "$p"; done < "$d/cgroup.procs"
		wait_for test ! -s "$d/cgroup.procs"
	done
	for d in "$CG"/bats-deleg-$$/leaf "$CG"/bats-deleg-$$ "$CG"/bats-parent-$$ "$CG"/bats-busy-$$ "$CG"/bats-scope-$$; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	return 0
}

@test "v2: cpu.max, memory.max, memory.swap.max and pids.max are written before the program runs" {
	"$JAILER" "${SHARE[@]}" --id "$ID" --memory 64M --cpu 0.5 --pids 10 --exec "$BUSYBOX" -- sleep 30 &
	pid=$!
	dir=$CG/$ID
	wait_for test -e "$dir/cgroup.procs"
	wait_for cgroup_procs_is "$dir" 2
	cpu=$(cat "$dir/cpu.max")
	mem=$(cat "$dir/memory.max")
	swap=$(cat "$dir/memory.swap.max" 2>/dev/null || echo 0)
	pids=$(cat "$dir/pids.max")
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_eq "50000 100000" "$cpu" "cpu.max"
	assert_eq 67108864 "$mem" "memory.max"
	assert_eq 0 "$swap" "memory.swap.max"
	assert_eq 10 "$pids" "pids.max"
	assert_eq 143 "$st" "status after SIGTERM"
	[ ! -e "$dir" ] || die "$dir left behind"
}

@test "v2: inside, the cgroup namespace shows / and the usual checks hold" {
	run "$JAILER" "${SHARE[@]}" --id "$ID" --memory 64M --exec "$BUSYBOX" -- sh -c 'cat /proc/self/cgroup; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; ls /dev | tr "\n" " "'
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "0::/" "${lines[0]}"
	assert_contains "$output" "NoNewPrivs:	1"
	assert_contains "$output" "CapEff:	0000000000000000"
}

@test "v2: memory hog is killed at memory.max; memory.peak is reported" {
	run "$JAILER" "${SHARE[@]}" --id "$ID" --memory 32M --stats-out "$BATS_TEST_TMPDIR/s.json" --exec "$PROBER" -- hog 512
	assert_eq 137 "$status"
	assert_eq 2 "$(json_field "$BATS_TEST_TMPDIR/s.json" cgroup_version)"
	assert_eq 33554432 "$(json_field "$BATS_TEST_TMPDIR/s.json" memory_max_bytes)"
	peak=$(json_field "$BATS_TEST_TMPDIR/s.json" memory_peak_bytes)
	[ "$peak" -gt $((16 << 20)) ] && [ "$peak" -le $((32 << 20)) ] || die "memory_peak_bytes $peak"
}

@test "v2: fork bomb stops at pids.max" {
	run "$JAILER" "${SHARE[@]}" --id "$ID" --pids 8 --stats-out "$BATS_TEST_TMPDIR/s.json" --exec "$PROBER" -- forkbomb 1000
	[ "$status" -eq 0 ] || die "$output"
	[[ $output =~ forked\ ([0-9]+):\ Resource\ temporarily\ unavailable ]] || die "$output"
	[ "${BASH_REMATCH[1]}" -le 6 ] || die "$output"
	assert_eq 8 "$(json_field "$BATS_TEST_TMPDIR/s.json" pids_max)"
}

@test "v2: cpu quota 0.5 shows in cpu.stat (throttled) and holds the program back" {
	start=$(date +%s%N)
	run "$JAILER" "${SHARE[@]}" --id "$ID" --cpu 0.5 --stats-out "$BATS_TEST_TMPDIR/s.json" --exec "$PROBER" -- burn 0.4
	elapsed_ms=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 0 ] || die "$output"
	[ "$elapsed_ms" -ge 700 ] || die "burned 0.4 s of CPU in $elapsed_ms ms"
	throttled=$(json_field "$BATS_TEST_TMPDIR/s.json" nr_throttled)
	[ "$throttled" -gt 0 ] || die "nr_throttled $throttled: $(cat "$BATS_TEST_TMPDIR/s.json")"
	usage=$(json_field "$BATS_TEST_TMPDIR/s.json" cpu_usage_usec)
	[ "$usage" -ge 400000 ] || die "cpu_usage_usec $usage"
	grep -q '"cpu_user_usec":' "$BATS_TEST_TMPDIR/s.json"
	grep -q '"cpu_system_usec":' "$BATS_TEST_TMPDIR/s.json"
}

@test "v2: SIGTERM leaves no cgroup, mount or jail root behind" {
	mounts_before=$(wc -l < /proc/self/mountinfo)
	root=$BATS_TEST_TMPDIR/newroot
	signal_jail TERM "$CG/$ID" "$JAILER" "${SHARE[@]}" --id "$ID" --jail-root "$root" --memory 64M --exec "$BUSYBOX" -- sleep 100
	assert_eq 143 "$st"
	[ ! -e "$CG/$ID" ] || die "cgroup left behind"
	[ ! -e "$root" ] || die "jail root left behind"
	assert_eq "$mounts_before" "$(wc -l < /proc/self/mountinfo)" "host mounts"
}

@test "v2: --parent-cgroup; controllers are enabled in the parent" {
	mkdir "$CG/bats-parent-$$"
	rel=${CG#*/sys/fs/cgroup}/bats-parent-$$
	"$JAILER" "${SHARE[@]}" --id "$ID" --parent-cgroup "$rel" --pids 9 --exec "$BUSYBOX" -- sleep 30 &
	pid=$!
	wait_for test -e "$CG/bats-parent-$$/$ID/pids.max"
	max=$(cat "$CG/bats-parent-$$/$ID/pids.max")
	sub=$(cat "$CG/bats-parent-$$/cgroup.subtree_control")
	kill -TERM "$pid"
	wait "$pid" || true
	assert_eq 9 "$max"
	assert_contains "$sub" "pids"
	assert_contains "$sub" "memory"
}

@test "v2: a jailer alone in its cgroup (a delegated scope) steps into a leaf and back" {
	scope=$CG/bats-scope-$$
	mkdir "$scope"
	# shellcheck disable=SC2016 # expanded by the inner shell
	run sh -c 'dir=$1; shift; echo $$ > "$dir/cgroup.procs" && exec "$@"' sh "$scope" \
		"$JAILER" "${SHARE[@]}" --id "$ID" --memory 32M --pids 8 --exec "$PROBER" -- forkbomb 100
	[ "$status" -eq 0 ] || die "$output"
	[[ $output =~ forked\ ([0-9]+):\ Resource ]] || die "$output"
	[ "${BASH_REMATCH[1]}" -le 6 ] || die "$output"
	assert_eq "" "$(find "$scope" -mindepth 1 -type d)" "cgroups left in the scope"
	assert_eq "" "$(cat "$scope/cgroup.subtree_control")" "controllers left enabled"
	rmdir "$scope"
}

@test "v2: a parent cgroup that holds other processes is explained (no internal processes)" {
	mkdir "$CG/bats-busy-$$"
	# shellcheck disable=SC2016 # expanded by the inner shell
	run sh -c 'dir=$1; shift; echo $$ > "$dir/cgroup.procs" && { sleep 60 & } && exec "$@"' sh "$CG/bats-busy-$$" \
		"$JAILER" "${SHARE[@]}" --id "$ID" --memory 32M --exec "$PROBER" -- status
	assert_eq 1 "$status"
	assert_contains "$output" "cgroup v2 lets a cgroup that holds processes hand no controllers to children"
	assert_contains "$output" "systemd-run --scope -p Delegate=yes"
	[ ! -e "$CG/bats-busy-$$/$ID.jailer" ] || die "leaf left behind"
}

@test "v2 unprivileged: limits work in a delegated subtree" {
	[ "$USERNS" = 1 ] || skip "user namespaces refused here (chroot?)"
	command -v setpriv >/dev/null || skip "needs setpriv"
	use_public_copies
	d=$CG/bats-deleg-$$
	mkdir "$d" "$d/leaf"
	echo "+cpu +memory +pids" > "$d/cgroup.subtree_control"
	chown 65534:65534 "$d" "$d/cgroup.procs" "$d/cgroup.subtree_control" "$d/leaf" "$d/leaf/cgroup.procs"
	out=$(mktemp -d)
	chmod 777 "$out"
	rel=${d#*/sys/fs/cgroup}
	# The jailer sits in the leaf; its jail goes beside it, below the
	# delegated cgroup, which holds no processes.
	# shellcheck disable=SC2016 # expanded by the inner shell
	run sh -c 'dir=$1; shift; echo $$ > "$dir/leaf/cgroup.procs" && exec "$@"' sh "$d" \
		setpriv --reuid 65534 --regid 65534 --clear-groups "$JAILER" --id "$ID" --parent-cgroup "$rel" \
		--pids 8 --memory 32M --stats-out "$out/s.json" --exec "$PROBER" -- forkbomb 100
	stats=$(cat "$out/s.json" 2>/dev/null || true)
	rm -rf "$out"
	[ "$status" -eq 0 ] || die "$output"
	[[ $output =~ forked\ ([0-9]+):\ Resource ]] || die "$output"
	[ "${BASH_REMATCH[1]}" -le 6 ] || die "$output"
	assert_contains "$stats" '"cgroup_version":2'
	assert_contains "$stats" '"pids_max":8'
	[ ! -e "$d/$ID" ] || die "cgroup left behind"
}

@test "v2 unprivileged: same checks from inside as root" {
	[ "$USERNS" = 1 ] || skip "user namespaces refused here (chroot?)"
	command -v setpriv >/dev/null || skip "needs setpriv"
	use_public_copies
	run setpriv --reuid 65534 --regid 65534 --clear-groups "$JAILER" --id "$ID" --no-cgroup --exec "$PROBER" -- status
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" "CapEff: 0000000000000000"
	assert_contains "$output" "NoNewPrivs: 1"
}

@test "jailing without a user namespace in a chroot is explained" {
	[ "$USERNS" = 0 ] || skip "user namespaces work here"
	run "$JAILER" --id "$ID" --exec "$PROBER" -- status
	assert_eq 1 "$status"
	assert_contains "$output" "chroot"
}

# ---- the chain's real use: bencher-vmm booting our guest inside the jail ----

@test "bencher-vmm boots the guest inside the jail, kernel and disk passed as fds" {
	load ../vmm-helpers
	[ -f "$KERNEL" ] || skip "$KERNEL: not built"
	[ -x "$GUEST_INIT" ] || skip "$GUEST_INIT: not built"
	[ -x "$VMM" ] || skip "$VMM: not built"
	make_rootfs "$BATS_TEST_TMPDIR/root.ext4"
	# uid 0 without capabilities: enough for a /dev/kvm only root may open
	# (bencher-vmm opens it itself; it takes no --kvm-fd yet).
	run "$JAILER" "${SHARE[@]}" --id "$ID" --uid 0 --gid 0 --memory 512M --pids 32 \
		--fd "$KERNEL:3" --fd "$BATS_TEST_TMPDIR/root.ext4:4:rw" --fd "$BATS_TEST_TMPDIR/report.json:5:rw" \
		--stats-out "$BATS_TEST_TMPDIR/stats.json" --exec "$VMM" -- \
		--kernel-fd 3 --rootfs-fd 4 --report-fd 5 --memory 128 --timeout 120 --cmdline "panic=-1 init=/init -- marker"
	[ "$status" -eq 0 ] || die "$output"
	assert_contains "$output" BENCHER-TEST-MARKER
	assert_eq poweroff "$(report_field "$BATS_TEST_TMPDIR/report.json" outcome)" outcome
	peak=$(json_field "$BATS_TEST_TMPDIR/stats.json" memory_peak_bytes)
	[ "$peak" -gt $((4 << 20)) ] || die "memory_peak_bytes $peak"
	[ ! -e "$CG/$ID" ] || die "cgroup left behind"
}
