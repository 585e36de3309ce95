// cgroup.cc: finding the hierarchies (mountinfo, /proc/self/cgroup), creating
// the jail's cgroup, limits, stats and removal. Refusals the kernel gives an
// unprivileged user (no delegation, the v2 "no internal processes" rule) are
// explained with the fix in the message.
#include "jail/cgroup.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"

namespace bencher::jail {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
	std::vector<std::string> out;
	size_t i = 0;
	while (i <= s.size()) {
		size_t j = s.find(sep, i);
		if (j == std::string_view::npos) j = s.size();
		out.emplace_back(s.substr(i, j - i));
		i = j + 1;
	}
	return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
	std::string out;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\\' && i + 3 < s.size() + 1 && s.size() - i > 3 && std::isdigit((unsigned char)s[i + 1]) &&
		    std::isdigit((unsigned char)s[i + 2]) && std::isdigit((unsigned char)s[i + 3])) {
			out += static_cast<char>(((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')) & 0xff);
			i += 3;
		} else {
			out += s[i];
		}
	}
	return out;
}

std::set<std::string> words(const std::string& s) {
	std::set<std::string> out;
	std::istringstream in(s);
	std::string w;
	while (in >> w) out.insert(w);
	return out;
}

bool exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

std::optional<std::string> try_read(const std::string& p) {
	UniqueFd fd(open(p.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd) return std::nullopt;
	try {
		return read_all(fd.get(), 1 << 20, p);
	} catch (const Error&) {
		return std::nullopt;
	}
}

// Writes a control file; returns errno (0 on success).
int write_ctl(const std::string& path, const std::string& value) {
	int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd < 0) return errno;
	ssize_t n = write(fd, value.data(), value.size());
	int err = n < 0 ? errno : 0;
	close(fd);
	return err;
}

void write_or_fail(const std::string& path, const std::string& value) {
	int err = write_ctl(path, value);
	if (err != 0) fail(strprintf("cgroup: write %s to %s: %s", value.c_str(), path.c_str(), strerror(err)));
}

std::string delegation_hint() {
	if (geteuid() == 0) return "";
	return " (no cgroup was delegated to this user: run under `systemd-run --user --scope -p Delegate=yes "
	       "bencher-jailer ...`, pass --parent-cgroup with a directory this user owns, or run as root)";
}

std::string join_path(const std::string& mount, const std::string& rel) {
	if (rel.empty() || rel == "/") return mount;
	return mount + (rel[0] == '/' ? "" : "/") + rel;
}

std::optional<uint64_t> read_u64(const std::string& path) {
	auto t = try_read(path);
	if (!t) return std::nullopt;
	return parse_limit(*t);
}

// v1 cgroups must be emptied by hand; v2 has cgroup.kill since 5.14.
bool kill_and_wait(const std::string& dir) {
	bool v2kill = write_ctl(dir + "/cgroup.kill", "1") == 0;
	for (int i = 0; i < 500; i++) {
		auto procs = try_read(dir + "/cgroup.procs");
		if (!procs || procs->empty()) return true;
		if (!v2kill)
			for (auto& line : split(*procs, '\n'))
				if (!line.empty()) kill(static_cast<pid_t>(std::stol(line)), SIGKILL);
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	return false;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
	std::vector<MountEntry> out;
	for (auto& line : split(text, '\n')) {
		if (line.empty()) continue;
		auto f = split(line, ' ');
		// id parent maj:min root mount-point options [optional...] - fstype source super-options
		size_t dash = 0;
		for (size_t i = 6; i < f.size(); i++)
			if (f[i] == "-") {
				dash = i;
				break;
			}
		if (dash == 0 || dash + 2 >= f.size()) continue;
		MountEntry m;
		m.mount_point = unescape(f[4]);
		m.fstype = f[dash + 1];
		if (dash + 3 < f.size()) m.super_options = split(f[dash + 3], ',');
		out.push_back(m);
	}
	return out;
}

std::map<std::string, std::string> parse_proc_cgroup(std::string_view text) {
	std::map<std::string, std::string> out;
	for (auto& line : split(text, '\n')) {
		size_t a = line.find(':');
		if (a == std::string::npos) continue;
		size_t b = line.find(':', a + 1);
		if (b == std::string::npos) continue;
		std::string ctrls = line.substr(a + 1, b - a - 1);
		std::string path = line.substr(b + 1);
		if (ctrls.empty()) {
			out[""] = path;
			continue;
		}
		for (auto& c : split(ctrls, ',')) out[c] = path;
	}
	return out;
}

std::map<std::string, uint64_t> parse_keyed(std::string_view text) {
	std::map<std::string, uint64_t> out;
	for (auto& line : split(text, '\n')) {
		size_t sp = line.find(' ');
		if (sp == std::string::npos || sp == 0) continue;
		const char* v = line.c_str() + sp + 1;
		char* end = nullptr;
		errno = 0;
		unsigned long long n = std::strtoull(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || *v == '-') continue;
		out[line.substr(0, sp)] = n;
	}
	return out;
}

std::optional<uint64_t> parse_limit(std::string_view text) {
	while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
	if (text.empty() || text == "max") return std::nullopt;
	std::string s(text);
	char* end = nullptr;
	errno = 0;
	unsigned long long n = std::strtoull(s.c_str(), &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '-') return std::nullopt;
	if (n >= (1ull << 62)) return std::nullopt;  // v1 spells "unlimited" as PAGE_COUNTER_MAX pages
	return n;
}

json::Value stats_json(const CgroupStats& s) {
	json::Value o = json::Value::object();
	o.set("cgroup_version", json::Value::integer(s.version));
	auto put = [&](const char* key, const std::optional<uint64_t>& v) {
		if (v) o.set(key, json::Value::integer(static_cast<int64_t>(*v)));
	};
	put("memory_peak_bytes", s.memory_peak_bytes);
	put("memory_max_bytes", s.memory_max_bytes);
	put("cpu_usage_usec", s.cpu_usage_usec);
	put("cpu_user_usec", s.cpu_user_usec);
	put("cpu_system_usec", s.cpu_system_usec);
	put("nr_throttled", s.nr_throttled);
	put("pids_max", s.pids_max);
	return o;
}

Cgroup& Cgroup::operator=(Cgroup&& o) noexcept {
	if (this != &o) {
		remove();
		version_ = o.version_;
		dirs_ = std::move(o.dirs_);
		controller_dir_ = std::move(o.controller_dir_);
		home_ = std::move(o.home_);
		leaf_ = std::move(o.leaf_);
		enabled_ = std::move(o.enabled_);
		o.dirs_.clear();
		o.controller_dir_.clear();
		o.home_.clear();
		o.leaf_.clear();
		o.enabled_.clear();
	}
	return *this;
}

Cgroup::~Cgroup() {
	try {
		remove();
	} catch (const std::exception& e) {
		BLOG_WARN("%s", e.what());
	}
}

Cgroup Cgroup::create(const std::string& id, const std::string& parent, const CgroupLimits& limits) {
	auto mounts = parse_mountinfo(read_file("/proc/self/mountinfo", 4 << 20));
	auto own = parse_proc_cgroup(read_file("/proc/self/cgroup", 1 << 20));
	const std::string& name = id;

	std::set<std::string> required;
	if (limits.cpu_quota_us) required.insert("cpu");
	if (limits.memory_bytes) required.insert("memory");
	if (limits.pids_max) required.insert("pids");

	const MountEntry* v2 = nullptr;
	std::map<std::string, const MountEntry*> v1;  // controller -> mount
	for (const MountEntry& m : mounts) {
		if (m.fstype == "cgroup2" && v2 == nullptr) v2 = &m;
		if (m.fstype == "cgroup")
			for (auto& opt : m.super_options)
				if ((opt == "cpu" || opt == "cpuacct" || opt == "memory" || opt == "pids") && !v1.count(opt))
					v1[opt] = &m;
	}

	Cgroup cg;
	std::set<std::string> v2_available;
	std::string v2_parent;
	if (v2 != nullptr) {
		v2_parent = join_path(v2->mount_point, parent.empty() ? own[""] : parent);
		if (auto c = try_read(v2_parent + "/cgroup.controllers"))
			for (auto& w : words(*c))
				if (w == "cpu" || w == "memory" || w == "pids") v2_available.insert(w);
	}
	// Hybrid hosts mount an empty (or hugetlb-only) v2 tree beside v1.
	bool use_v2 = v2 != nullptr && (!v2_available.empty() || v1.empty());
	for (auto& r : required)
		if (!v2_available.count(r)) use_v2 = false;
	if (v2 != nullptr && use_v2) {
		cg.version_ = 2;
		if (!exists(v2_parent)) fail_errno("cgroup: parent " + v2_parent, ENOENT);
		std::string sub = try_read(v2_parent + "/cgroup.subtree_control").value_or("");
		std::set<std::string> enabled = words(sub);
		// systemd's delegation model: a scope holding just the jailer. A v2
		// cgroup with processes cannot give its children controllers, so
		// the jailer steps into a leaf of its own cgroup first.
		bool must_enable = false;
		for (auto& r : required) must_enable |= !enabled.count(r);
		if (must_enable && parent.empty() && v2_parent != v2->mount_point &&
		    words(try_read(v2_parent + "/cgroup.procs").value_or("")) ==
			    std::set<std::string>{std::to_string(getpid())}) {
			std::string leaf = v2_parent + "/" + name + ".jailer";
			if (mkdir(leaf.c_str(), 0755) == 0) {
				if (write_ctl(leaf + "/cgroup.procs", std::to_string(getpid())) == 0) {
					cg.home_ = v2_parent;
					cg.leaf_ = leaf;
				} else {
					rmdir(leaf.c_str());
				}
			}
		}
		for (const char* c : {"cpu", "memory", "pids"}) {
			if (!v2_available.count(c) || enabled.count(c)) continue;
			int err = write_ctl(v2_parent + "/cgroup.subtree_control", std::string("+") + c);
			if (err == 0) {
				if (!cg.leaf_.empty()) cg.enabled_.push_back(c);
				continue;
			}
			if (!required.count(c)) {
				BLOG_INFO("cgroup: cannot enable %s in %s: %s", c, v2_parent.c_str(), strerror(err));
				continue;
			}
			std::string why = strerror(err);
			// 6.1 says EOPNOTSUPP where newer kernels say EBUSY.
			bool has_procs = !try_read(v2_parent + "/cgroup.procs").value_or("").empty();
			if (err == EBUSY || (has_procs && v2_parent != v2->mount_point))
				why += " (cgroup v2 lets a cgroup that holds processes hand no controllers to children: start "
				       "the jailer in a cgroup of its own, e.g. `systemd-run --scope -p Delegate=yes`, or pass "
				       "--parent-cgroup with an empty cgroup)";
			else if (err == EACCES || err == EPERM)
				why += delegation_hint();
			fail(strprintf("cgroup: enable %s in %s/cgroup.subtree_control: %s", c, v2_parent.c_str(), why.c_str()));
		}
		std::string dir = v2_parent + "/" + name;
		if (mkdir(dir.c_str(), 0755) != 0) {
			int err = errno;
			if (err == EEXIST)
				fail(strprintf("cgroup: %s already exists: another jail with id %s runs, or one was killed "
					       "(rmdir it)",
					       dir.c_str(), id.c_str()));
			fail(strprintf("cgroup: create %s: %s%s", dir.c_str(), strerror(err),
				       err == EACCES || err == EPERM || err == EROFS ? delegation_hint().c_str() : ""));
		}
		cg.dirs_.push_back(dir);
		if (limits.memory_bytes) {
			write_or_fail(dir + "/memory.max", std::to_string(*limits.memory_bytes));
			if (exists(dir + "/memory.swap.max")) write_or_fail(dir + "/memory.swap.max", "0");
		}
		if (limits.cpu_quota_us)
			write_or_fail(dir + "/cpu.max", strprintf("%llu %llu", (unsigned long long)*limits.cpu_quota_us,
								  (unsigned long long)limits.cpu_period_us));
		if (limits.pids_max) write_or_fail(dir + "/pids.max", std::to_string(*limits.pids_max));
		return cg;
	}

	// v1: one directory per hierarchy; cpu and cpuacct may share one.
	cg.version_ = 1;
	for (auto& r : required)
		if (!v1.count(r))
			fail(strprintf("cgroup: the %s controller is mounted neither in cgroup v2 (%s) nor in v1", r.c_str(),
				       v2 ? v2_parent.c_str() : "not mounted"));
	std::map<std::string, std::string> mount_dir;  // mount point -> our dir
	for (auto& [ctrl, m] : v1) {
		auto it = mount_dir.find(m->mount_point);
		if (it != mount_dir.end()) {
			cg.controller_dir_[ctrl] = it->second;
			continue;
		}
		std::string base = join_path(m->mount_point, parent.empty() ? own[ctrl] : parent);
		std::string dir = base + "/" + name;
		if (!exists(base)) {
			if (!required.count(ctrl)) continue;
			fail_errno("cgroup: parent " + base, ENOENT);
		}
		if (mkdir(dir.c_str(), 0755) != 0) {
			int err = errno;
			if (!required.count(ctrl) && err != EEXIST) {
				BLOG_INFO("cgroup: cannot create %s: %s", dir.c_str(), strerror(err));
				continue;
			}
			if (err == EEXIST)
				fail(strprintf("cgroup: %s already exists: another jail with id %s runs, or one was killed "
					       "(rmdir it)",
					       dir.c_str(), id.c_str()));
			fail(strprintf("cgroup: create %s: %s%s", dir.c_str(), strerror(err),
				       err == EACCES || err == EPERM || err == EROFS ? delegation_hint().c_str() : ""));
		}
		cg.dirs_.push_back(dir);
		mount_dir[m->mount_point] = dir;
		cg.controller_dir_[ctrl] = dir;
	}
	if (limits.memory_bytes) {
		const std::string& d = cg.controller_dir_.at("memory");
		write_or_fail(d + "/memory.limit_in_bytes", std::to_string(*limits.memory_bytes));
		if (exists(d + "/memory.memsw.limit_in_bytes"))
			write_or_fail(d + "/memory.memsw.limit_in_bytes", std::to_string(*limits.memory_bytes));
	}
	if (limits.cpu_quota_us) {
		const std::string& d = cg.controller_dir_.at("cpu");
		write_or_fail(d + "/cpu.cfs_period_us", std::to_string(limits.cpu_period_us));
		write_or_fail(d + "/cpu.cfs_quota_us", std::to_string(*limits.cpu_quota_us));
	}
	if (limits.pids_max) write_or_fail(cg.controller_dir_.at("pids") + "/pids.max", std::to_string(*limits.pids_max));
	return cg;
}

void Cgroup::add(pid_t pid) const {
	for (auto& d : dirs_) {
		int err = write_ctl(d + "/cgroup.procs", std::to_string(pid));
		if (err != 0)
			fail(strprintf("cgroup: move pid %d into %s: %s%s", static_cast<int>(pid), d.c_str(), strerror(err),
				       err == EACCES || err == EPERM ? delegation_hint().c_str() : ""));
	}
}

CgroupStats Cgroup::stats() const {
	CgroupStats s;
	s.version = version_;
	if (dirs_.empty()) return s;
	if (version_ == 2) {
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
	auto dir = [&](const char* c) -> std::string {
		auto it = controller_dir_.find(c);
		return it == controller_dir_.end() ? std::string() : it->second;
	};
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

void Cgroup::remove() {
	std::string failed;
	for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
		const std::string& d = *it;
		if (!kill_and_wait(d)) {
			failed += " " + d + " (processes remain)";
			continue;
		}
		bool gone = false;
		for (int i = 0; i < 200 && !gone; i++) {
			if (rmdir(d.c_str()) == 0 || errno == ENOENT)
				gone = true;
			else if (errno == EBUSY)
				std::this_thread::sleep_for(std::chrono::milliseconds(10));
			else
				break;
		}
		if (!gone) failed += " " + d + " (" + strerror(errno) + ")";
	}
	dirs_.clear();
	controller_dir_.clear();
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

}  // namespace bencher::jail
