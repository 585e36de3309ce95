// cgroup_v2.cc: the jail's cgroup in the unified hierarchy: one directory,
// controllers enabled in the parent's cgroup.subtree_control, limits in
// cpu.max, memory.max and pids.max. A jailer alone in a delegated cgroup (a
// systemd scope) first steps into a leaf of its own, because v2 lets no
// cgroup that holds processes give its children controllers.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.hh"
#include "common/log.hh"
#include "jail/cgroup_fs.hh"

namespace bencher::jail {

namespace {

using namespace cgfs;

class CgroupV2 final : public Cgroup {
public:
	CgroupV2(const V2Site& site, const std::string& id) : site_(site), id_(id) {}
	~CgroupV2() override { remove_logged(*this); }

	void make(const std::set<std::string>& required);
	int version() const override { return 2; }
	const std::vector<std::string>& dirs() const override { return dirs_; }
	void set_limits(const CgroupLimits& limits) override;
	void add(pid_t pid) const override;
	CgroupStats stats() const override;
	void remove() override;

private:
	void step_into_leaf();
	void enable(const char* controller, bool required);

	V2Site site_;
	std::string id_;
	std::vector<std::string> dirs_;
	// The jailer moved itself into leaf_ so that home_ may enable
	// controllers; undone by remove().
	std::string home_, leaf_;
	std::vector<std::string> enabled_;
};

void CgroupV2::step_into_leaf() {
	std::string leaf = site_.parent + "/" + id_ + ".jailer";
	if (mkdir(leaf.c_str(), 0755) != 0) return;
	if (write_ctl(leaf + "/cgroup.procs", std::to_string(getpid())) == 0) {
		home_ = site_.parent;
		leaf_ = leaf;
	} else {
		rmdir(leaf.c_str());
	}
}

void CgroupV2::enable(const char* c, bool required) {
	const std::string& parent = site_.parent;
	int err = write_ctl(parent + "/cgroup.subtree_control", std::string("+") + c);
	if (err == 0) {
		if (!leaf_.empty()) enabled_.push_back(c);
		return;
	}
	if (!required) {
		BLOG_INFO("cgroup: cannot enable %s in %s: %s", c, parent.c_str(), strerror(err));
		return;
	}
	std::string why = strerror(err);
	// 6.1 says EOPNOTSUPP where newer kernels say EBUSY.
	bool has_procs = !try_read(parent + "/cgroup.procs").value_or("").empty();
	if (err == EBUSY || (has_procs && parent != site_.mount_point))
		why += " (cgroup v2 lets a cgroup that holds processes hand no controllers to children: start the jailer "
		       "in a cgroup of its own, e.g. `systemd-run --scope -p Delegate=yes`, or pass --parent-cgroup with "
		       "an empty cgroup)";
	else if (err == EACCES || err == EPERM)
		why += delegation_hint();
	fail(strprintf("cgroup: enable %s in %s/cgroup.subtree_control: %s", c, parent.c_str(), why.c_str()));
}

void CgroupV2::make(const std::set<std::string>& required) {
	const std::string& parent = site_.parent;
	if (!exists(parent)) fail_errno("cgroup: parent " + parent, ENOENT);
	std::set<std::string> enabled = words(try_read(parent + "/cgroup.subtree_control").value_or(""));
	bool must_enable = false;
	for (auto& r : required) must_enable |= !enabled.count(r);
	if (must_enable && site_.default_parent && parent != site_.mount_point &&
	    words(try_read(parent + "/cgroup.procs").value_or("")) == std::set<std::string>{std::to_string(getpid())})
		step_into_leaf();
	for (const char* c : {"cpu", "memory", "pids"})
		if (site_.available.count(c) && !enabled.count(c)) enable(c, required.count(c) != 0);
	std::string dir = parent + "/" + id_;
	if (int err = make_dir(dir)) fail_make_dir(dir, id_, err);
	dirs_.push_back(dir);
}

void CgroupV2::set_limits(const CgroupLimits& limits) {
	const std::string& dir = dirs_.at(0);
	if (limits.memory_bytes) {
		write_or_fail(dir + "/memory.max", std::to_string(*limits.memory_bytes));
		if (exists(dir + "/memory.swap.max")) write_or_fail(dir + "/memory.swap.max", "0");
	}
	if (limits.cpu_quota_us)
		write_or_fail(dir + "/cpu.max", strprintf("%llu %llu", (unsigned long long)*limits.cpu_quota_us,
							  (unsigned long long)limits.cpu_period_us));
	if (limits.pids_max) write_or_fail(dir + "/pids.max", std::to_string(*limits.pids_max));
}

void CgroupV2::add(pid_t pid) const { add_to_dirs(dirs_, pid); }

CgroupStats CgroupV2::stats() const {
	CgroupStats s;
	s.version = 2;
	if (dirs_.empty()) return s;
	const std::string& d = dirs_[0];
	s.memory_peak_bytes = read_u64(d + "/memory.peak");
	s.memory_max_bytes = read_u64(d + "/memory.max");
	if (auto t = try_read(d + "/cpu.stat")) {
		auto k = parse_keyed(*t);
		auto get = [&](const char* key) -> std::optional<uint64_t> {
			auto it = k.find(key);
			if (it == k.end()) return std::nullopt;
			return it->second;
		};
		s.cpu_usage_usec = get("usage_usec");
		s.cpu_user_usec = get("user_usec");
		s.cpu_system_usec = get("system_usec");
		s.nr_throttled = get("nr_throttled");
	}
	s.pids_max = read_u64(d + "/pids.max");
	return s;
}

void CgroupV2::remove() {
	std::string failed = remove_dirs(dirs_);
	dirs_.clear();
	if (!leaf_.empty()) {
		// Controllers off again, or home_ could not take a process back.
		for (auto it = enabled_.rbegin(); it != enabled_.rend(); ++it)
			if (int err = write_ctl(home_ + "/cgroup.subtree_control", "-" + *it); err != 0)
				BLOG_INFO("cgroup: disable %s in %s: %s", it->c_str(), home_.c_str(), strerror(err));
		if (int err = write_ctl(home_ + "/cgroup.procs", std::to_string(getpid())); err != 0)
			failed += " " + leaf_ + " (moving back to " + home_ + ": " + strerror(err) + ")";
		else if (rmdir(leaf_.c_str()) != 0)
			failed += " " + leaf_ + " (" + strerror(errno) + ")";
		leaf_.clear();
		enabled_.clear();
	}
	if (!failed.empty()) fail("cgroup: could not remove" + failed);
}

}  // namespace

std::unique_ptr<Cgroup> cgfs::make_v2(const V2Site& site, const std::string& id, const std::set<std::string>& required) {
	auto cg = std::make_unique<CgroupV2>(site, id);
	cg->make(required);
	return cg;
}

}  // namespace bencher::jail
