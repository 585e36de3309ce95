// plan.cc: the JSON config and command-line forms of a Plan, and the checks
// that make a Plan safe to act on. Input here is untrusted in shape: every
// field is typed, bounded and named in its error.
#include "jail/plan.hh"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <set>

#include "common/error.hh"
#include "common/size.hh"

namespace bencher::jail {

namespace {

constexpr size_t kMaxList = 4096;   // args, env, mounts, fds: far beyond any real jail
constexpr size_t kMaxPath = 4095;
constexpr int64_t kMaxId = 0xfffffffe;  // (uid_t)-1 means "unchanged" to the kernel

void check_list(size_t n, const std::string& what) {
	if (n > kMaxList) fail(strprintf("%s: more than %zu entries", what.c_str(), kMaxList));
}

bool has_dotdot(const std::string& p) {
	size_t i = 0;
	while (i <= p.size()) {
		size_t j = p.find('/', i);
		if (j == std::string::npos) j = p.size();
		if (p.compare(i, j - i, "..") == 0 && j - i == 2) return true;
		i = j + 1;
	}
	return false;
}

// "/a//b/" -> "/a/b"; the jail-side paths are compared and created from this form.
std::string normalize_abs(const std::string& p, const std::string& what) {
	if (p.empty() || p[0] != '/') fail(strprintf("%s: %s: must be an absolute path", what.c_str(), p.c_str()));
	if (p.size() > kMaxPath) fail(strprintf("%s: path too long", what.c_str()));
	if (has_dotdot(p)) fail(strprintf("%s: %s: must not contain '..'", what.c_str(), p.c_str()));
	std::string out;
	size_t i = 0;
	while (i < p.size()) {
		size_t j = p.find('/', i);
		if (j == std::string::npos) j = p.size();
		std::string part = p.substr(i, j - i);
		if (!part.empty() && part != ".") out += "/" + part;
		i = j + 1;
	}
	return out.empty() ? "/" : out;
}

bool under(const std::string& p, const std::string& dir) {
	return p == dir || (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/');
}

void check_env_key(const std::string& k, const std::string& what) {
	if (k.empty() || k.find('=') != std::string::npos)
		fail(strprintf("%s: %s: not a valid variable name", what.c_str(), k.c_str()));
}

}  // namespace

bool valid_id(const std::string& id) {
	if (id.empty() || id.size() > 64 || id[0] == '.' || id[0] == '-') return false;
	for (char c : id)
		if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
	return true;
}

namespace {

void apply_limits(Limits& l, json::Object o) {
	if (auto v = o.opt_integer("cpu_quota_us", 1000, 1000000000)) l.cpu_quota_us = *v;
	if (auto v = o.opt_integer("cpu_period_us", 1000, 1000000)) l.cpu_period_us = *v;
	if (auto v = o.opt_integer("memory_bytes", 1 << 20, INT64_MAX)) l.memory_bytes = *v;
	if (auto v = o.opt_integer("pids_max", 1, 4194304)) l.pids_max = *v;
	if (auto v = o.opt_integer("max_fds", 3, 1 << 20)) l.max_fds = *v;
	if (auto v = o.opt_integer("max_procs", 1, 4194304)) l.max_procs = *v;
	if (auto v = o.opt_integer("max_file_bytes", 0, INT64_MAX)) l.max_file_bytes = *v;
	o.finish();
}

void apply_namespaces(Namespaces& ns, json::Object o) {
	for (auto [key, flag] : {std::pair{"user", &ns.user}, {"pid", &ns.pid}, {"mount", &ns.mount},
				 {"network", &ns.network}, {"uts", &ns.uts}, {"ipc", &ns.ipc}, {"cgroup", &ns.cgroup}})
		if (auto v = o.opt_boolean(key)) *flag = *v;
	o.finish();
}

BindMount bind_from(json::Object& m) {
	BindMount b;
	b.source = m.str("source");
	b.dest = m.str("dest");
	b.read_only = m.opt_boolean("read_only").value_or(false);
	return b;
}

FdSpec fd_from(json::Object& m) {
	FdSpec f;
	f.path = m.str("path");
	f.fd = static_cast<int>(m.integer("fd", 0, 1 << 20));
	f.read_write = m.opt_boolean("read_write").value_or(false);
	return f;
}

// An array of objects, each read whole (unknown keys refused).
template <typename T>
std::vector<T> objects_from(const json::Array& a, T (*read)(json::Object&)) {
	std::vector<T> out;
	for (size_t i = 0; i < a.size(); i++) {
		json::Object m = a.object_at(i);
		out.push_back(read(m));
		m.finish();
	}
	return out;
}

// "env": {"K": "V"} or [["K", "V"], ...].
std::vector<std::pair<std::string, std::string>> env_from(json::Object& o, const std::string& pre) {
	std::vector<std::pair<std::string, std::string>> env;
	if (json_is_object(o.value("env").get())) {
		for (auto& [k, v] : o.string_map("env")) env.emplace_back(k, v);
	} else {
		json::Array a = o.array("env");
		check_list(a.size(), pre + "env");
		for (size_t i = 0; i < a.size(); i++) {
			json_t* pair = a.at(i).get();
			if (!json_is_array(pair) || json_array_size(pair) != 2)
				fail(strprintf("%s%s: expected a [\"NAME\", \"value\"] pair, got %s", pre.c_str(),
					       a.path_at(i).c_str(),
					       json_is_array(pair) ? "an array of another length" : json::type_name(pair)));
			json::Array p(a.at(i), a.path_at(i));
			env.emplace_back(p.str_at(0), p.str_at(1));
		}
	}
	check_list(env.size(), pre + "env");
	for (auto& [k, v] : env) check_env_key(k, pre + "env");
	return env;
}

}  // namespace

void apply_json(Plan& plan, const json::Value& doc, const std::string& source) {
	json::Object o = json::root_object(doc, source);
	const std::string pre = source + ": ";
	if (auto v = o.opt_str("id")) plan.id = *v;
	if (auto v = o.opt_str("exec_path")) plan.exec_path = *v;
	if (auto v = o.opt_strings("exec_args")) {
		check_list(v->size(), pre + "exec_args");
		plan.exec_args = *v;
	}
	if (auto v = o.opt_str("jail_root")) plan.jail_root = *v;
	if (auto v = o.opt_integer("uid", 0, kMaxId)) plan.uid = static_cast<uid_t>(*v);
	if (auto v = o.opt_integer("gid", 0, kMaxId)) plan.gid = static_cast<gid_t>(*v);
	if (auto l = o.opt_object("limits")) apply_limits(plan.limits, *l);
	if (auto n = o.opt_object("namespaces")) apply_namespaces(plan.namespaces, *n);
	if (auto a = o.opt_array("bind_mounts")) {
		check_list(a->size(), pre + "bind_mounts");
		plan.bind_mounts = objects_from(*a, bind_from);
	}
	if (auto a = o.opt_array("fds")) {
		check_list(a->size(), pre + "fds");
		plan.fds = objects_from(*a, fd_from);
	}
	if (auto a = o.opt_array("keep_fds")) {
		check_list(a->size(), pre + "keep_fds");
		plan.keep_fds.clear();
		for (size_t i = 0; i < a->size(); i++) plan.keep_fds.push_back(static_cast<int>(a->integer_at(i, 0, 1 << 20)));
	}
	if (auto v = o.opt_str("workdir")) plan.workdir = *v;
	if (o.has("env")) plan.env = env_from(o, pre);
	if (auto v = o.opt_str("hostname")) plan.hostname = *v;
	if (auto v = o.opt_boolean("cgroup")) plan.use_cgroup = *v;
	if (auto v = o.opt_str("parent_cgroup")) plan.parent_cgroup = *v;
	if (auto v = o.opt_str("stats_out")) plan.stats_out = *v;
	o.finish();
}

BindMount parse_bind(const std::string& spec) {
	BindMount b;
	std::string s = spec;
	auto strip = [&](const char* suffix, bool ro) {
		size_t n = std::char_traits<char>::length(suffix);
		if (s.size() > n && s.compare(s.size() - n, n, suffix) == 0) {
			s.resize(s.size() - n);
			b.read_only = ro;
			return true;
		}
		return false;
	};
	if (!strip(":ro", true)) strip(":rw", false);
	size_t colon = s.find(':');
	if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() ||
	    s.find(':', colon + 1) != std::string::npos)
		fail_usage(strprintf("--bind %s: expected SRC:DEST[:ro]", spec.c_str()));
	b.source = s.substr(0, colon);
	b.dest = s.substr(colon + 1);
	return b;
}

FdSpec parse_fd_spec(const std::string& spec) {
	FdSpec f;
	std::string s = spec;
	if (s.size() > 3 && s.compare(s.size() - 3, 3, ":rw") == 0) {
		f.read_write = true;
		s.resize(s.size() - 3);
	}
	size_t colon = s.rfind(':');
	if (colon == std::string::npos || colon == 0)
		fail_usage(strprintf("--fd %s: expected PATH:N[:rw]", spec.c_str()));
	f.path = s.substr(0, colon);
	try {
		f.fd = static_cast<int>(parse_uint(s.substr(colon + 1), "fd number", 0, 1 << 20));
	} catch (const Error& e) {
		fail_usage(strprintf("--fd %s: %s", spec.c_str(), e.what()));
	}
	return f;
}

uint64_t parse_cpu(const std::string& text) {
	char* end = nullptr;
	errno = 0;
	double cpus = text.empty() ? NAN : std::strtod(text.c_str(), &end);
	if (errno != 0 || end == nullptr || *end != '\0' || !std::isfinite(cpus) || cpus < 0.01 || cpus > 1024)
		fail_usage(strprintf("--cpu %s: expected a number of CPUs between 0.01 and 1024", text.c_str()));
	return static_cast<uint64_t>(std::llround(cpus * 100000));
}

std::pair<std::string, std::string> parse_env(const std::string& text) {
	size_t eq = text.find('=');
	if (eq == std::string::npos || eq == 0) fail_usage(strprintf("--env %s: expected NAME=VALUE", text.c_str()));
	return {text.substr(0, eq), text.substr(eq + 1)};
}

void validate(Plan& plan) {
	if (plan.id.empty()) plan.id = strprintf("jail-%d", static_cast<int>(getpid()));  // unique while we run
	if (!valid_id(plan.id))
		fail(strprintf("id %s: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.' or '-'",
			       plan.id.c_str()));
	if (plan.hostname.empty()) plan.hostname = plan.id;
	if (!valid_id(plan.hostname)) fail(strprintf("hostname %s: not a valid host name", plan.hostname.c_str()));
	if (plan.exec_path.empty()) fail("no program to run: give --exec PATH or a command after --");
	if (plan.exec_path.size() > kMaxPath) fail("exec_path: path too long");
	check_list(plan.exec_args.size(), "exec_args");
	if (!plan.jail_root.empty()) plan.jail_root = normalize_abs(plan.jail_root, "jail_root");
	if (plan.jail_root == "/") fail("jail_root: / cannot be a jail root");
	plan.workdir = normalize_abs(plan.workdir, "workdir");

	if (!plan.namespaces.mount) fail("namespaces.mount: the jail cannot work without a mount namespace (pivot_root)");
	if (!plan.namespaces.pid) fail("namespaces.pid: the jail cannot work without a PID namespace (its own /proc)");
	if (!plan.namespaces.user && geteuid() != 0)
		fail("namespaces.user: only root can jail without a user namespace");

	std::set<std::string> dests;
	for (BindMount& b : plan.bind_mounts) {
		if (b.source.empty()) fail("bind mount: empty source");
		if (b.source.size() > kMaxPath) fail("bind mount: source path too long");
		b.dest = normalize_abs(b.dest, "bind mount " + b.source);
		if (b.dest == "/" || under(b.dest, "/proc") || under(b.dest, "/dev"))
			fail(strprintf("bind mount %s: destination %s is reserved for the jail's own / /proc /dev",
				       b.source.c_str(), b.dest.c_str()));
		if (!dests.insert(b.dest).second) fail(strprintf("bind mount: %s given twice", b.dest.c_str()));
	}

	const Limits& l = plan.limits;
	if (l.max_fds < 3 || l.max_fds > (1u << 20)) fail("limits.max_fds: must be between 3 and 1048576");
	if (l.max_procs < 1) fail("limits.max_procs: must be at least 1");
	if (l.cpu_quota_us && (*l.cpu_quota_us < 1000)) fail("limits.cpu_quota_us: must be at least 1000");
	if (l.cpu_period_us < 1000 || l.cpu_period_us > 1000000)
		fail("limits.cpu_period_us: must be between 1000 and 1000000");
	if (!plan.use_cgroup && (l.cpu_quota_us || l.memory_bytes || l.pids_max))
		fail("cpu, memory and pids limits need a cgroup: drop --no-cgroup");

	std::set<int> targets;
	auto add_target = [&](int fd, const std::string& what) {
		if (fd < 0 || static_cast<uint64_t>(fd) >= l.max_fds)
			fail(strprintf("%s: fd %d is outside 0..%llu (limits.max_fds)", what.c_str(), fd,
				       static_cast<unsigned long long>(l.max_fds - 1)));
		if (!targets.insert(fd).second) fail(strprintf("%s: fd %d is passed twice", what.c_str(), fd));
	};
	for (const FdSpec& f : plan.fds) {
		if (f.path.empty() || f.path.size() > kMaxPath) fail("fd: bad path");
		add_target(f.fd, "fd " + f.path);
	}
	for (int fd : plan.keep_fds) add_target(fd, "keep fd");
	for (auto& [k, v] : plan.env) check_env_key(k, "env");
}

}  // namespace bencher::jail
