// cgroup.hh: the workload's cgroup inside the guest (the run config's
// "cgroup", a path below the cgroup2 root). Init creates it and hands its
// cgroup.procs to the forked child, which writes its own pid there before
// execve: the workload's first instruction already runs, and is counted,
// in its cgroup.
#pragma once

#include <string>

#include "common/fd.hh"

namespace bencher::guest {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

// Creates `rel` (no leading '/') below `root`, handing the common
// controllers down at each level (each may be absent), and returns the new
// cgroup's cgroup.procs open for writing. mount_if_missing: mount cgroup2 on
// `root` first when nothing is mounted there (in the guest only).
UniqueFd prepare_cgroup(const std::string& root, const std::string& rel, bool mount_if_missing);

}  // namespace bencher::guest
