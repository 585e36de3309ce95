// root.cc: the jail root on the host (see root.hh). Every path below it is
// opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a hostile
// jail root cannot make the jailer create or mount anything outside it.
#include "jail/root.hh"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/error.hh"
#include "common/log.hh"

namespace bencher::jail {

UniqueFd open_beneath(int rootfd, const std::string& abs, uint64_t flags) {
	std::string rel = abs.size() > 1 ? abs.substr(1) : ".";
	struct open_how how {};
	how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	long fd = syscall(SYS_openat2, rootfd, rel.c_str(), &how, sizeof how);
	return UniqueFd(static_cast<int>(fd));
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string parent_of(const std::string& abs) {
	size_t slash = abs.rfind('/');
	return slash == 0 ? "/" : abs.substr(0, slash);
}

JailRoot::JailRoot(const std::string& path) {
	if (path.empty()) {
		const char* tmp = getenv("TMPDIR");
		std::string templ = std::string(tmp && *tmp == '/' ? tmp : "/tmp") + "/bencher-jail.XXXXXX";
		if (mkdtemp(templ.data()) == nullptr) fail_errno("jail root: create " + templ);
		path_ = templ;
		created_ = true;
	} else {
		path_ = path;
		if (mkdir(path_.c_str(), 0755) == 0)
			created_ = true;
		else if (errno != EEXIST)
			fail_errno("jail root: create " + path_);
	}
	if (created_ && chmod(path_.c_str(), 0755) != 0) fail_errno("jail root: chmod " + path_);
	fd_.reset(open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!fd_) fail_errno("jail root " + path_);
}

JailRoot::~JailRoot() {
	fd_.reset();
	if (created_) {
		try {
			remove_tree(path_);
		} catch (const std::exception& e) {
			BLOG_WARN("jail root: %s", e.what());
		}
		return;
	}
	for (auto it = made_.rbegin(); it != made_.rend(); ++it)
		if ((it->second ? rmdir(it->first.c_str()) : unlink(it->first.c_str())) != 0)
			BLOG_WARN("jail root: remove %s: %s", it->first.c_str(), strerror(errno));
}

void JailRoot::ensure(const std::string& abs, bool dir) {
	std::string prefix;
	size_t i = 1;
	while (i <= abs.size()) {
		size_t j = abs.find('/', i);
		if (j == std::string::npos) j = abs.size();
		prefix = abs.substr(0, j);
		bool last = j == abs.size();
		bool want_dir = !last || dir;
		UniqueFd f = open_beneath(fd(), prefix, O_PATH);
		if (f) {
			struct stat st;
			if (fstat(f.get(), &st) != 0) fail_errno("jail root: " + path_ + prefix);
			if (S_ISLNK(st.st_mode))
				fail(strprintf("jail root: %s%s: a symbolic link (not followed in a jail root)",
					       path_.c_str(), prefix.c_str()));
			if (want_dir && !S_ISDIR(st.st_mode))
				fail(strprintf("jail root: %s%s: not a directory", path_.c_str(), prefix.c_str()));
			if (!want_dir && S_ISDIR(st.st_mode))
				fail(strprintf("jail root: %s%s: is a directory, but a file is mounted there",
					       path_.c_str(), prefix.c_str()));
		} else if (errno == ENOENT) {
			UniqueFd parent = open_beneath(fd(), parent_of(prefix), O_PATH | O_DIRECTORY);
			if (!parent) fail_errno("jail root: " + path_ + parent_of(prefix));
			std::string name = prefix.substr(prefix.rfind('/') + 1);
			if (want_dir) {
				if (mkdirat(parent.get(), name.c_str(), 0755) != 0 ||
				    fchmodat(parent.get(), name.c_str(), 0755, 0) != 0)
					fail_errno("jail root: mkdir " + path_ + prefix);
			} else {
				UniqueFd nf(openat(parent.get(), name.c_str(),
						   O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
				if (!nf) fail_errno("jail root: create " + path_ + prefix);
			}
			made_.emplace_back(path_ + prefix, want_dir);
		} else if (errno == ELOOP || errno == EXDEV) {
			fail(strprintf("jail root: %s%s: a symbolic link (not followed in a jail root)", path_.c_str(),
				       prefix.c_str()));
		} else {
			fail_errno("jail root: " + path_ + prefix);
		}
		i = j + 1;
	}
}

}  // namespace bencher::jail
