// cgroup_fs.cc: the control-file and directory helpers both cgroup versions
// use (see cgroup_fs.hh).
#include "jail/cgroup_fs.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"

namespace bencher::jail::cgfs {

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

std::set<std::string> words(const std::string& s) {
	std::set<std::string> out;
	std::istringstream in(s);
	std::string w;
	while (in >> w) out.insert(w);
	return out;
}

bool exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

std::string join_path(const std::string& mount, const std::string& rel) {
	if (rel.empty() || rel == "/") return mount;
	return mount + (rel[0] == '/' ? "" : "/") + rel;
}

std::optional<std::string> try_read(const std::string& p) {
	UniqueFd fd(open(p.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd) return std::nullopt;
	try {
		return read_all(fd.get(), 1 << 20, p);
	} catch (const Error&) {
		return std::nullopt;
	}
}

std::optional<uint64_t> read_u64(const std::string& path) {
	auto t = try_read(path);
	if (!t) return std::nullopt;
	return parse_limit(*t);
}

int write_ctl(const std::string& path, const std::string& value) {
	UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
	if (!fd) return errno;
	return write(fd.get(), value.data(), value.size()) < 0 ? errno : 0;
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

int make_dir(const std::string& dir) { return mkdir(dir.c_str(), 0755) == 0 ? 0 : errno; }

void fail_make_dir(const std::string& dir, const std::string& id, int err) {
	if (err == EEXIST)
		fail(strprintf("cgroup: %s already exists: another jail with id %s runs, or one was killed (rmdir it)",
			       dir.c_str(), id.c_str()));
	fail(strprintf("cgroup: create %s: %s%s", dir.c_str(), strerror(err),
		       err == EACCES || err == EPERM || err == EROFS ? delegation_hint().c_str() : ""));
}

void add_to_dirs(const std::vector<std::string>& dirs, pid_t pid) {
	for (auto& d : dirs) {
		int err = write_ctl(d + "/cgroup.procs", std::to_string(pid));
		if (err != 0)
			fail(strprintf("cgroup: move pid %d into %s: %s%s", static_cast<int>(pid), d.c_str(), strerror(err),
				       err == EACCES || err == EPERM ? delegation_hint().c_str() : ""));
	}
}

namespace {

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

std::string remove_dirs(const std::vector<std::string>& dirs) {
	std::string failed;
	for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
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
	return failed;
}

void remove_logged(Cgroup& cg) noexcept {
	try {
		cg.remove();
	} catch (const std::exception& e) {
		BLOG_WARN("%s", e.what());
	}
}

}  // namespace bencher::jail::cgfs
