// root.hh: the jail root on the host, before any namespace: made when
// missing (a temporary directory by default), the mount points the setup
// needs created in it without following a symbolic link out of it, and
// everything the jailer made there removed again at the end.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/fd.hh"

namespace bencher::jail {

// openat2 below rootfd, refusing symlinks and escapes; an invalid fd (errno
// set) when it fails.
UniqueFd open_beneath(int rootfd, const std::string& abs, uint64_t flags);
// "/proc/self/fd/N": a path for mount(2) to the object an O_PATH fd holds.
std::string fd_path(int fd);
// "/a/b" -> "/a"; "/a" -> "/".
std::string parent_of(const std::string& abs);

class JailRoot {
public:
	// path "" makes a temporary directory (in $TMPDIR or /tmp).
	explicit JailRoot(const std::string& path);
	JailRoot(const JailRoot&) = delete;
	JailRoot& operator=(const JailRoot&) = delete;
	~JailRoot();

	const std::string& path() const { return path_; }
	int fd() const { return fd_.get(); }

	// Makes sure `abs` (a path inside the jail) exists as a directory or a
	// file to mount on, creating what is missing.
	void ensure(const std::string& abs, bool dir);

private:
	std::string path_;
	bool created_ = false;
	UniqueFd fd_;
	std::vector<std::pair<std::string, bool>> made_;  // host path, is a directory
};

}  // namespace bencher::jail
