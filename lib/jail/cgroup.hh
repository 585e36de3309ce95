// cgroup.hh: the jail's own cgroup: created below the jailer's cgroup (or
// --parent-cgroup), limits written before the child may run, figures read
// back for --stats-out, leftovers killed and the directory removed at the
// end. cgroup v2 first; v1 controllers (cpu, cpuacct, memory, pids) on
// hybrid hosts whose v2 tree has no controllers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hh"

namespace bencher::jail {

struct CgroupLimits {
	std::optional<uint64_t> cpu_quota_us;
	uint64_t cpu_period_us = 100000;
	std::optional<uint64_t> memory_bytes;
	std::optional<uint64_t> pids_max;
};

struct CgroupStats {
	int version = 0;
	std::optional<uint64_t> memory_peak_bytes, memory_max_bytes, cpu_usage_usec, cpu_user_usec, cpu_system_usec,
		nr_throttled, pids_max;
};
// The --stats-out document (interfaces.md); unknown figures are left out.
json::Value stats_json(const CgroupStats& s);

// Parsers of the kernel's text, separate so unit tests can feed them.
struct MountEntry {
	std::string mount_point;
	std::string fstype;
	std::vector<std::string> super_options;
};
std::vector<MountEntry> parse_mountinfo(std::string_view text);
// "N:ctrl1,ctrl2:/path" lines -> controller -> path; the v2 line ("0::/p") under "".
std::map<std::string, std::string> parse_proc_cgroup(std::string_view text);
// "key value" lines (cpu.stat, memory.stat, cpuacct.stat).
std::map<std::string, uint64_t> parse_keyed(std::string_view text);
// A limit file's value: nullopt for "max" or v1's "unlimited" (close to 2^63).
std::optional<uint64_t> parse_limit(std::string_view text);

class Cgroup {
public:
	// Creates "jail-ID" below the parent and writes the limits.
	static Cgroup create(const std::string& id, const std::string& parent, const CgroupLimits& limits);
	Cgroup() = default;
	Cgroup(Cgroup&& o) noexcept { *this = std::move(o); }
	Cgroup& operator=(Cgroup&& o) noexcept;
	Cgroup(const Cgroup&) = delete;
	Cgroup& operator=(const Cgroup&) = delete;
	~Cgroup();

	int version() const { return version_; }
	// One directory per hierarchy (one for v2).
	const std::vector<std::string>& dirs() const { return dirs_; }
	// Moves a process in (every hierarchy).
	void add(pid_t pid) const;
	CgroupStats stats() const;
	// Kills whatever still runs inside and removes the directories. Called
	// by the destructor too; errors there are logged, not thrown.
	void remove();

private:
	int version_ = 0;
	std::vector<std::string> dirs_;
	std::map<std::string, std::string> controller_dir_;  // v1: controller -> dir
	// v2, jailer alone in its cgroup: it moved itself into leaf_ so that
	// home_ may enable controllers; undone by remove().
	std::string home_, leaf_;
	std::vector<std::string> enabled_;
};

}  // namespace bencher::jail
