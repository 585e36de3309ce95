// cgroup.cc: the parsers of the kernel's text, the --stats-out document, and
// the probe that finds the hierarchies (mountinfo, /proc/self/cgroup) and
// picks CgroupV2 or CgroupV1 for the jail.
#include "jail/cgroup.hh"

#include <cerrno>
#include <cstdlib>

#include "common/error.hh"
#include "common/fd.hh"
#include "jail/cgroup_fs.hh"

namespace bencher::jail {

namespace {

using cgfs::split;

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

// The directory the jail's cgroup goes below in one hierarchy: --parent-cgroup,
// or where the jailer itself is (`key` "" for v2, else the controller).
std::string parent_in(const CgroupHost& host, const std::string& mount_point, const std::string& key,
		      const std::string& parent) {
	if (!parent.empty()) return cgfs::join_path(mount_point, parent);
	auto own = host.own.find(key);
	return cgfs::join_path(mount_point, own != host.own.end() ? own->second : "");
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

CgroupHost CgroupHost::current() {
	CgroupHost h;
	h.mounts = parse_mountinfo(read_file("/proc/self/mountinfo", 4 << 20));
	h.own = parse_proc_cgroup(read_file("/proc/self/cgroup", 1 << 20));
	return h;
}

std::set<std::string> required_controllers(const CgroupLimits& limits) {
	std::set<std::string> required;
	if (limits.cpu_quota_us) required.insert("cpu");
	if (limits.memory_bytes) required.insert("memory");
	if (limits.pids_max) required.insert("pids");
	return required;
}

std::unique_ptr<Cgroup> make_cgroup(const CgroupHost& host, const std::string& id, const std::string& parent,
				    const std::set<std::string>& required) {
	const MountEntry* v2 = nullptr;
	std::map<std::string, cgfs::V1Hierarchy> v1;
	for (const MountEntry& m : host.mounts) {
		if (m.fstype == "cgroup2" && v2 == nullptr) v2 = &m;
		if (m.fstype != "cgroup") continue;
		for (auto& opt : m.super_options)
			if ((opt == "cpu" || opt == "cpuacct" || opt == "memory" || opt == "pids") && !v1.count(opt))
				v1[opt] = {m.mount_point, parent_in(host, m.mount_point, opt, parent)};
	}
	cgfs::V2Site site;
	if (v2 != nullptr) {
		site.mount_point = v2->mount_point;
		site.parent = parent_in(host, v2->mount_point, "", parent);
		site.default_parent = parent.empty();
		if (auto c = cgfs::try_read(site.parent + "/cgroup.controllers"))
			for (auto& w : cgfs::words(*c))
				if (w == "cpu" || w == "memory" || w == "pids") site.available.insert(w);
	}
	// Hybrid hosts mount an empty (or hugetlb-only) v2 tree beside v1.
	bool use_v2 = v2 != nullptr && (!site.available.empty() || v1.empty());
	for (auto& r : required)
		if (!site.available.count(r)) use_v2 = false;
	if (use_v2) return cgfs::make_v2(site, id, required);
	for (auto& r : required)
		if (!v1.count(r))
			fail(strprintf("cgroup: the %s controller is mounted neither in cgroup v2 (%s) nor in v1", r.c_str(),
				       v2 ? site.parent.c_str() : "not mounted"));
	return cgfs::make_v1(v1, id, required);
}

std::unique_ptr<Cgroup> Cgroup::create(const std::string& id, const std::string& parent, const CgroupLimits& limits) {
	auto cg = make_cgroup(CgroupHost::current(), id, parent, required_controllers(limits));
	cg->set_limits(limits);
	return cg;
}

}  // namespace bencher::jail
