// cgroup_v1.cc: the jail's cgroup on a host whose controllers are in v1
// hierarchies (hybrid hosts mount an empty v2 tree beside them): one
// directory per hierarchy, cpu and cpuacct often sharing one, limits in
// memory.limit_in_bytes, cpu.cfs_quota_us and pids.max.
#include <cerrno>
#include <cstring>

#include "common/error.hh"
#include "common/log.hh"
#include "jail/cgroup_fs.hh"

namespace bencher::jail {

namespace {

using namespace cgfs;

class CgroupV1 final : public Cgroup {
public:
	explicit CgroupV1(const std::string& id) : id_(id) {}
	~CgroupV1() override { remove_logged(*this); }

	void make(const std::map<std::string, V1Hierarchy>& controllers, const std::set<std::string>& required);
	int version() const override { return 1; }
	const std::vector<std::string>& dirs() const override { return dirs_; }
	void set_limits(const CgroupLimits& limits) override;
	void add(pid_t pid) const override { add_to_dirs(dirs_, pid); }
	CgroupStats stats() const override;
	void remove() override;

private:
	// The controller's directory; "" when its hierarchy was not usable.
	std::string dir(const char* controller) const;
	const std::string& dir_for_limit(const char* controller) const;

	std::string id_;
	std::vector<std::string> dirs_;
	std::map<std::string, std::string> controller_dir_;
};

void CgroupV1::make(const std::map<std::string, V1Hierarchy>& controllers, const std::set<std::string>& required) {
	std::map<std::string, std::string> mount_dir;  // mount point -> our dir
	for (auto& [ctrl, h] : controllers) {
		if (auto it = mount_dir.find(h.mount_point); it != mount_dir.end()) {
			controller_dir_[ctrl] = it->second;
			continue;
		}
		bool needed = required.count(ctrl) != 0;
		if (!exists(h.parent)) {
			if (!needed) continue;
			fail_errno("cgroup: parent " + h.parent, ENOENT);
		}
		std::string dir = h.parent + "/" + id_;
		if (int err = make_dir(dir)) {
			if (needed || err == EEXIST) fail_make_dir(dir, id_, err);
			BLOG_INFO("cgroup: cannot create %s: %s", dir.c_str(), strerror(err));
			continue;
		}
		dirs_.push_back(dir);
		mount_dir[h.mount_point] = dir;
		controller_dir_[ctrl] = dir;
	}
}

std::string CgroupV1::dir(const char* controller) const {
	auto it = controller_dir_.find(controller);
	return it == controller_dir_.end() ? std::string() : it->second;
}

const std::string& CgroupV1::dir_for_limit(const char* controller) const {
	auto it = controller_dir_.find(controller);
	if (it == controller_dir_.end()) fail(strprintf("cgroup: no %s hierarchy for the jail's limit", controller));
	return it->second;
}

void CgroupV1::set_limits(const CgroupLimits& limits) {
	if (limits.memory_bytes) {
		const std::string& d = dir_for_limit("memory");
		write_or_fail(d + "/memory.limit_in_bytes", std::to_string(*limits.memory_bytes));
		if (exists(d + "/memory.memsw.limit_in_bytes"))
			write_or_fail(d + "/memory.memsw.limit_in_bytes", std::to_string(*limits.memory_bytes));
	}
	if (limits.cpu_quota_us) {
		const std::string& d = dir_for_limit("cpu");
		write_or_fail(d + "/cpu.cfs_period_us", std::to_string(limits.cpu_period_us));
		write_or_fail(d + "/cpu.cfs_quota_us", std::to_string(*limits.cpu_quota_us));
	}
	if (limits.pids_max) write_or_fail(dir_for_limit("pids") + "/pids.max", std::to_string(*limits.pids_max));
}

CgroupStats CgroupV1::stats() const {
	CgroupStats s;
	s.version = 1;
	if (auto d = dir("memory"); !d.empty()) {
		s.memory_peak_bytes = read_u64(d + "/memory.max_usage_in_bytes");
		s.memory_max_bytes = read_u64(d + "/memory.limit_in_bytes");
	}
	if (auto d = dir("cpuacct"); !d.empty()) {
		if (auto ns = read_u64(d + "/cpuacct.usage")) s.cpu_usage_usec = *ns / 1000;
		if (auto ns = read_u64(d + "/cpuacct.usage_user")) s.cpu_user_usec = *ns / 1000;
		if (auto ns = read_u64(d + "/cpuacct.usage_sys")) s.cpu_system_usec = *ns / 1000;
	}
	if (auto d = dir("cpu"); !d.empty())
		if (auto t = try_read(d + "/cpu.stat")) {
			auto k = parse_keyed(*t);
			if (k.count("nr_throttled")) s.nr_throttled = k["nr_throttled"];
		}
	if (auto d = dir("pids"); !d.empty()) s.pids_max = read_u64(d + "/pids.max");
	return s;
}

void CgroupV1::remove() {
	std::string failed = remove_dirs(dirs_);
	dirs_.clear();
	controller_dir_.clear();
	if (!failed.empty()) fail("cgroup: could not remove" + failed);
}

}  // namespace

std::unique_ptr<Cgroup> cgfs::make_v1(const std::map<std::string, V1Hierarchy>& controllers, const std::string& id,
				      const std::set<std::string>& required) {
	auto cg = std::make_unique<CgroupV1>(id);
	cg->make(controllers, required);
	return cg;
}

}  // namespace bencher::jail
