// cgroup_fs.hh: what CgroupV1 and CgroupV2 share below lib/jail/cgroup.hh:
// control files read and written with the kernel's errno kept, the jail's
// directory made and removed with the explanations an unprivileged user
// needs, and the two implementations' constructors for the probe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "jail/cgroup.hh"

namespace bencher::jail::cgfs {

std::vector<std::string> split(std::string_view s, char sep);
std::set<std::string> words(const std::string& s);
bool exists(const std::string& p);
std::string join_path(const std::string& mount, const std::string& rel);

std::optional<std::string> try_read(const std::string& p);
std::optional<uint64_t> read_u64(const std::string& path);  // a limit file; "max" is nullopt
// Writes a control file; returns errno (0 on success).
int write_ctl(const std::string& path, const std::string& value);
void write_or_fail(const std::string& path, const std::string& value);

// " (how to get a delegated cgroup)" for an unprivileged user, "" for root.
std::string delegation_hint();

// mkdir of the jail's cgroup; returns errno (0 on success).
int make_dir(const std::string& dir);
// The error for a make_dir that failed with err.
[[noreturn]] void fail_make_dir(const std::string& dir, const std::string& id, int err);

// Moves a process into every directory (one per hierarchy).
void add_to_dirs(const std::vector<std::string>& dirs, pid_t pid);

// Kills what runs inside each directory and removes it, innermost last made
// first; returns what could not be removed (" DIR (why)"...), "" when all went.
std::string remove_dirs(const std::vector<std::string>& dirs);

// For destructors: remove(), an error logged rather than thrown.
void remove_logged(Cgroup& cg) noexcept;

// Where v2 would put the jail: the mount, the parent directory and the
// controllers it offers (of cpu, memory, pids).
struct V2Site {
	std::string mount_point;
	std::string parent;
	std::set<std::string> available;
	bool default_parent = true;  // the jailer's own cgroup, not --parent-cgroup
};
std::unique_ptr<Cgroup> make_v2(const V2Site& site, const std::string& id, const std::set<std::string>& required);

// One v1 hierarchy per controller: its mount point and the parent directory
// the jail goes below; controllers sharing a mount share a directory.
struct V1Hierarchy {
	std::string mount_point;
	std::string parent;
};
std::unique_ptr<Cgroup> make_v1(const std::map<std::string, V1Hierarchy>& controllers, const std::string& id,
				const std::set<std::string>& required);

}  // namespace bencher::jail::cgfs
