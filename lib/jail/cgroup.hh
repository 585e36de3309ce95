// cgroup.hh: the jail's own cgroup: created below the jailer's cgroup (or
// --parent-cgroup), limits written before the child may run, figures read
// back for --stats-out, leftovers killed and the directory removed at the
// end. One interface over cgroup v2 and the v1 controllers (cpu, cpuacct,
// memory, pids) of hybrid hosts whose v2 tree has no controllers.
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

// The jail's cgroup, in whichever hierarchy holds the controllers: CgroupV2
// (cgroup_v2.cc) or CgroupV1 (cgroup_v1.cc), chosen by a probe of the host.
// Destroying one removes it, as remove() does, logging instead of throwing.
class Cgroup {
public:
	// Probes this host, creates "ID" below the parent (the jailer's own
	// cgroup when empty) and writes the limits.
	static std::unique_ptr<Cgroup> create(const std::string& id, const std::string& parent, const CgroupLimits& limits);
	virtual ~Cgroup() = default;

	virtual int version() const = 0;
	// One directory per hierarchy (one for v2).
	virtual const std::vector<std::string>& dirs() const = 0;
	// cpu, memory and pids limits; the controllers must have been required.
	virtual void set_limits(const CgroupLimits& limits) = 0;
	// Moves a process in (every hierarchy).
	virtual void add(pid_t pid) const = 0;
	virtual CgroupStats stats() const = 0;
	// Kills whatever still runs inside and removes the directories.
	virtual void remove() = 0;
};

// The host as the probe sees it: its mounts and the jailer's own cgroups.
struct CgroupHost {
	std::vector<MountEntry> mounts;
	std::map<std::string, std::string> own;  // parse_proc_cgroup of /proc/self/cgroup
	static CgroupHost current();
};

// The controllers the limits need ("cpu", "memory", "pids").
std::set<std::string> required_controllers(const CgroupLimits& limits);

// The probe: v2 when its tree offers every required controller (or there is
// no v1 to fall back on), else v1. Creates "ID" without limits.
std::unique_ptr<Cgroup> make_cgroup(const CgroupHost& host, const std::string& id, const std::string& parent,
				    const std::set<std::string>& required);

}  // namespace bencher::jail
