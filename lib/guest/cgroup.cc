// cgroup.cc: the workload's cgroup in the guest (see cgroup.hh).
#include "guest/cgroup.hh"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.hh"
#include "guest/system.hh"

namespace bencher::guest {

UniqueFd prepare_cgroup(const std::string& root, const std::string& rel, bool mount_if_missing) {
	if (mount_if_missing) {
		struct stat st;
		if (stat((root + "/cgroup.procs").c_str(), &st) < 0)
			mount_one("cgroup2", root.c_str(), "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
	}
	std::string path = root;
	size_t start = 0;
	while (start <= rel.size()) {
		size_t slash = rel.find('/', start);
		if (slash == std::string::npos) slash = rel.size();
		// Hand the common controllers down, one at a time (each may be absent).
		for (const char* c : {"+cpu", "+memory", "+pids", "+io", "+cpuset"}) {
			UniqueFd fd(open((path + "/cgroup.subtree_control").c_str(), O_WRONLY | O_CLOEXEC));
			if (fd) (void)!write(fd.get(), c, strlen(c));
		}
		path += "/" + rel.substr(start, slash - start);
		if (mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("cgroup " + path);
		start = slash + 1;
	}
	return open_file(path + "/cgroup.procs", O_WRONLY);
}

}  // namespace bencher::guest
