# jailer-helpers.bash: shared by tests/bats/jailer.bats and
# tests/bats/kvm/jailer-cgroup2.bats: the programs under test and ways to find
# the jail's cgroup from outside.
# shellcheck shell=bash disable=SC2154 # abs_top_builddir comes from helpers.bash
# shellcheck disable=SC2034 # used by the suites that load this file
JAILER=$abs_top_builddir/bencher-jailer
# shellcheck disable=SC2034
PROBER=$abs_top_builddir/tests/jail/prober
# shellcheck disable=SC2034
PROBER_DYN=$abs_top_builddir/tests/jail/prober-dyn
BUSYBOX=/bin/busybox

# use_public_copies: the cases run as an unprivileged user take the jailer and
# the prober from copies in a fresh directory anyone can search, since a
# clone may sit below a private (0700) directory that user cannot enter.
# Sets PUBLIC (teardown removes it), JAILER, PROBER and, if set, J[0].
use_public_copies() {
	PUBLIC=$(mktemp -d "${TMPDIR:-/tmp}/bats-public.XXXXXX")
	chmod a+rx "$PUBLIC"
	cp "$JAILER" "$PROBER" "$PUBLIC/"
	JAILER=$PUBLIC/bencher-jailer
	PROBER=$PUBLIC/prober
	[ -z "${J+set}" ] || J[0]=$JAILER
}

# Most of the suite needs root (cgroups, uid changes) and busybox-static.
require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -x "$BUSYBOX" ] || skip "needs busybox-static"
}

# The directory of this shell's cgroup for a v1 controller, or the v2 one
# when the controller is empty.
own_cgroup_dir() {
	local ctrl=$1 mnt rel
	# mountinfo: the fstype and super options follow the "-" field.
	mnt=$(awk -v c="$ctrl" '{
		for (d = 7; d <= NF && $d != "-"; d++) ;
		if (c == "" && $(d + 1) == "cgroup2") { print $5; exit }
		if (c != "" && $(d + 1) == "cgroup") {
			n = split($(d + 3), o, ",")
			for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit }
		}
	}' /proc/self/mountinfo)
	if [ -z "$ctrl" ]; then
		rel=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
	else
		rel=$(awk -F: -v c="$ctrl" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $3 }' /proc/self/cgroup)
	fi
	[ -n "$mnt" ] || return 1
	echo "${mnt}${rel%/}"
}

# Where cgroup v2 is mounted.
cgroup2_mount() {
	awk '{ for (d = 7; d <= NF && $d != "-"; d++) ; if ($(d + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo
}

# Which cgroup version the jailer will pick here: 2 when the v2 tree offers
# cpu, memory or pids, else 1.
host_cgroup_version() {
	local v2
	v2=$(own_cgroup_dir "") || { echo 1; return; }
	if grep -qwE 'cpu|memory|pids' "$v2/cgroup.controllers" 2>/dev/null; then echo 2; else echo 1; fi
}

# wait_for COMMAND...: retries for up to 10 s.
wait_for() {
	local _
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# cgroup_procs_is DIR N: the cgroup holds exactly N processes.
cgroup_procs_is() {
	[ "$(wc -l < "$1/cgroup.procs")" -eq "$2" ]
}

# signal_jail SIGNAL CGDIR COMMAND...: starts COMMAND (a jailer running a long
# sleep) in the background, waits until the jail's cgroup CGDIR holds its
# PID 1 and the program, sends the jailer SIGNAL and sets $st to its status.
# shellcheck disable=SC2034 # st is read by the calling test
signal_jail() {
	local sig=$1 dir=$2 pid
	shift 2
	"$@" &
	pid=$!
	wait_for test -e "$dir/cgroup.procs"
	wait_for cgroup_procs_is "$dir" 2
	kill -"$sig" "$pid"
	st=0
	wait "$pid" || st=$?
}

# A JSON field of a flat document (numbers only).
json_field() {
	sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"
}
