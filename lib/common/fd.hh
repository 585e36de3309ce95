// fd.hh: RAII for file descriptors, memory mappings, temporary files and
// directories, plus the read/write loops every tool needs (EINTR, short I/O).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace bencher {

// A move-only owned file descriptor.
class UniqueFd {
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	UniqueFd(const UniqueFd&) = delete;
	UniqueFd& operator=(const UniqueFd&) = delete;
	UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
	UniqueFd& operator=(UniqueFd&& o) noexcept {
		if (this != &o) reset(o.release());
		return *this;
	}
	~UniqueFd() { reset(); }

	int get() const { return fd_; }
	bool valid() const { return fd_ >= 0; }
	explicit operator bool() const { return valid(); }
	int release() { return std::exchange(fd_, -1); }
	void reset(int fd = -1);

private:
	int fd_ = -1;
};

// open(2) that throws "open PATH: why". O_CLOEXEC is always added.
UniqueFd open_file(const std::string& path, int flags, mode_t mode = 0);
UniqueFd open_at(int dirfd, const std::string& path, int flags, mode_t mode = 0);

// Writes all of buf, retrying on EINTR and short writes; throws "what: why".
void write_all(int fd, const void* buf, size_t len, std::string_view what);
inline void write_all(int fd, std::string_view s, std::string_view what) {
	write_all(fd, s.data(), s.size(), what);
}
// Reads until len bytes or EOF; returns the count. Throws on errors.
size_t read_full(int fd, void* buf, size_t len, std::string_view what);
// Reads to EOF, failing if more than max bytes arrive.
std::string read_all(int fd, size_t max, std::string_view what);
std::string read_file(const std::string& path, size_t max);

// A memory mapping, unmapped on destruction.
class Mapping {
public:
	Mapping() = default;
	Mapping(void* addr, size_t len) : addr_(addr), len_(len) {}
	Mapping(const Mapping&) = delete;
	Mapping& operator=(const Mapping&) = delete;
	Mapping(Mapping&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)) {}
	Mapping& operator=(Mapping&& o) noexcept;
	~Mapping() { reset(); }

	// mmap(2) that throws "what: why".
	static Mapping map(size_t len, int prot, int flags, int fd, off_t off, std::string_view what);
	static Mapping anonymous(size_t len, std::string_view what);

	void* data() const { return addr_; }
	unsigned char* bytes() const { return static_cast<unsigned char*>(addr_); }
	size_t size() const { return len_; }
	void reset();

private:
	void* addr_ = nullptr;
	size_t len_ = 0;
};

// Output written beside its final name and renamed into place by commit(),
// so a failure never leaves a half-written file that looks complete. A path
// that already exists and is not a regular file (/dev/null, a fifo, a tty) is
// written in place: renaming over it would replace the device with a file.
class AtomicFile {
public:
	explicit AtomicFile(std::string path, mode_t mode = 0644);
	AtomicFile(const AtomicFile&) = delete;
	AtomicFile& operator=(const AtomicFile&) = delete;
	~AtomicFile();

	int fd() const { return fd_.get(); }
	const std::string& path() const { return path_; }
	const std::string& temp_path() const { return tmp_; }
	void commit();  // fsync-free rename; the caller decides about durability

private:
	std::string path_;
	std::string tmp_;  // empty when writing in place
	UniqueFd fd_;
	bool committed_ = false;
};

// A directory removed with its contents on destruction.
class TempDir {
public:
	explicit TempDir(const std::string& prefix = "bencher");
	TempDir(const TempDir&) = delete;
	TempDir& operator=(const TempDir&) = delete;
	~TempDir();
	const std::string& path() const { return path_; }

private:
	std::string path_;
};

// rm -rf without following symlinks or crossing mount points.
void remove_tree(const std::string& path);

// Runs a callable on scope exit unless dismissed.
template <typename F>
class ScopeGuard {
public:
	explicit ScopeGuard(F f) : f_(std::move(f)) {}
	ScopeGuard(const ScopeGuard&) = delete;
	ScopeGuard& operator=(const ScopeGuard&) = delete;
	~ScopeGuard() {
		if (active_) f_();
	}
	void dismiss() { active_ = false; }

private:
	F f_;
	bool active_ = true;
};

}  // namespace bencher
