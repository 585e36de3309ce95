// fd.cc: file descriptor, mapping and temporary file helpers.
#include "common/fd.hh"

#include <fcntl.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <vector>

#include "common/error.hh"

namespace bencher {

void UniqueFd::reset(int fd) {
	if (fd_ >= 0) ::close(fd_);
	fd_ = fd;
}

UniqueFd open_file(const std::string& path, int flags, mode_t mode) {
	int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
	if (fd < 0) fail_errno("open " + path);
	return UniqueFd(fd);
}

UniqueFd open_at(int dirfd, const std::string& path, int flags, mode_t mode) {
	int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
	if (fd < 0) fail_errno("open " + path);
	return UniqueFd(fd);
}

void write_all(int fd, const void* buf, size_t len, std::string_view what) {
	const char* p = static_cast<const char*>(buf);
	while (len > 0) {
		ssize_t n = ::write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR) continue;
			fail_errno(what);
		}
		p += n;
		len -= static_cast<size_t>(n);
	}
}

size_t read_full(int fd, void* buf, size_t len, std::string_view what) {
	char* p = static_cast<char*>(buf);
	size_t got = 0;
	while (got < len) {
		ssize_t n = ::read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR) continue;
			fail_errno(what);
		}
		if (n == 0) break;
		got += static_cast<size_t>(n);
	}
	return got;
}

std::string read_all(int fd, size_t max, std::string_view what) {
	std::string out;
	char buf[65536];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR) continue;
			fail_errno(what);
		}
		if (n == 0) break;
		if (out.size() + static_cast<size_t>(n) > max)
			fail(strprintf("%.*s: larger than %zu bytes", static_cast<int>(what.size()), what.data(), max));
		out.append(buf, static_cast<size_t>(n));
	}
	return out;
}

std::string read_file(const std::string& path, size_t max) {
	UniqueFd fd = open_file(path, O_RDONLY);
	return read_all(fd.get(), max, path);
}

Mapping& Mapping::operator=(Mapping&& o) noexcept {
	if (this != &o) {
		reset();
		addr_ = std::exchange(o.addr_, nullptr);
		len_ = std::exchange(o.len_, 0);
	}
	return *this;
}

Mapping Mapping::map(size_t len, int prot, int flags, int fd, off_t off, std::string_view what) {
	void* p = ::mmap(nullptr, len, prot, flags, fd, off);
	if (p == MAP_FAILED) fail_errno(what);
	return Mapping(p, len);
}

Mapping Mapping::anonymous(size_t len, std::string_view what) {
	return map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, what);
}

void Mapping::reset() {
	if (addr_ != nullptr) ::munmap(addr_, len_);
	addr_ = nullptr;
	len_ = 0;
}

AtomicFile::AtomicFile(std::string path, mode_t mode) : path_(std::move(path)) {
	struct stat st {};
	if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fd_ = open_file(path_, O_WRONLY | O_NOCTTY);
		return;
	}
	std::string templ = path_ + ".tmp.XXXXXX";
	std::vector<char> buf(templ.begin(), templ.end());
	buf.push_back('\0');
	int fd = ::mkostemp(buf.data(), O_CLOEXEC);
	if (fd < 0) fail_errno("create " + path_);
	tmp_ = buf.data();
	fd_.reset(fd);
	if (::fchmod(fd, mode) < 0) {
		int err = errno;
		::unlink(tmp_.c_str());
		fail_errno("chmod " + tmp_, err);
	}
}

AtomicFile::~AtomicFile() {
	if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::commit() {
	if (tmp_.empty()) {
		committed_ = true;
		fd_.reset();
		return;
	}
	if (::rename(tmp_.c_str(), path_.c_str()) < 0) fail_errno("rename " + tmp_ + " to " + path_);
	committed_ = true;
	fd_.reset();
}

TempDir::TempDir(const std::string& prefix) {
	const char* base = std::getenv("TMPDIR");
	std::string templ = std::string(base && *base ? base : "/tmp") + "/" + prefix + ".XXXXXX";
	std::vector<char> buf(templ.begin(), templ.end());
	buf.push_back('\0');
	if (::mkdtemp(buf.data()) == nullptr) fail_errno("mkdtemp " + templ);
	path_ = buf.data();
}

TempDir::~TempDir() {
	try {
		remove_tree(path_);
	} catch (...) {
	}
}

namespace {

// Empties the directory `dir` (whose device is `dev`) and its
// subdirectories. A subdirectory on another device is a mount point and is
// left alone (its rmdir then fails). Only directories are compared: on
// overlayfs a file reports its layer's device, not the overlay's, so a file
// on another device is no mount.
void empty_dir(int dir, dev_t dev, const std::string& path) {
	int fd = ::dup(dir);
	if (fd < 0) fail_errno("dup " + path);
	DIR* d = ::fdopendir(fd);
	if (d == nullptr) {
		::close(fd);
		fail_errno("open " + path);
	}
	std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
	while (dirent* e = ::readdir(d)) {
		std::string name = e->d_name;
		if (name == "." || name == "..") continue;
		struct stat st {};
		if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) continue;
			fail_errno("stat " + path + "/" + name);
		}
		bool is_dir = S_ISDIR(st.st_mode);
		if (is_dir && st.st_dev == dev) {
			UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (!sub) fail_errno("open " + path + "/" + name);
			empty_dir(sub.get(), dev, path + "/" + name);
		}
		if (::unlinkat(dir, name.c_str(), is_dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
			fail_errno("remove " + path + "/" + name);
	}
}

}  // namespace

void remove_tree(const std::string& path) {
	UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!dir) {
		if (errno == ENOENT) return;
		// Not a directory (or a symlink to one): remove the name itself.
		if ((errno == ENOTDIR || errno == ELOOP) && ::unlink(path.c_str()) == 0) return;
		fail_errno("remove " + path);
	}
	struct stat st {};
	if (::fstat(dir.get(), &st) < 0) fail_errno("stat " + path);
	empty_dir(dir.get(), st.st_dev, path);
	if (::rmdir(path.c_str()) < 0 && errno != ENOENT) fail_errno("remove " + path);
}

}  // namespace bencher
