// dir_source.cc: directory walking (see dir_source.hh). Never follows
// symlinks: every open is O_NOFOLLOW relative to its parent's fd.
#include "rootfs/dir_source.hh"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <vector>

#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::rootfs {

FileReader::FileReader(int fd, uint64_t size, std::string name) : fd_(fd), size_(size), name_(std::move(name)), buf_(1 << 20) {}

bool FileReader::next(uint64_t& offset, const void*& data, size_t& len) {
	if (pos_ >= size_) return false;
	if (pos_ >= hole_) {
		hole_ = size_;
		if (seek_ok_) {
			off_t d = ::lseek(fd_, static_cast<off_t>(pos_), SEEK_DATA);
			if (d < 0 && errno == ENXIO) return false;  // only a hole is left
			if (d < 0) {
				seek_ok_ = false;  // file system without SEEK_DATA: all data
			} else {
				off_t h = ::lseek(fd_, d, SEEK_HOLE);
				pos_ = static_cast<uint64_t>(d);
				if (h > d) hole_ = std::min<uint64_t>(size_, static_cast<uint64_t>(h));
			}
		}
		if (pos_ >= size_) return false;
	}
	size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size(), hole_ - pos_));
	ssize_t n;
	do n = ::pread(fd_, buf_.data(), want, static_cast<off_t>(pos_));
	while (n < 0 && errno == EINTR);
	if (n < 0) fail_errno("read " + name_);
	if (n == 0) return false;  // the file shrank while we read it
	offset = pos_;
	data = buf_.data();
	len = static_cast<size_t>(n);
	pos_ += static_cast<uint64_t>(n);
	return true;
}

namespace {

// What every entry takes from its stat: path, permission bits, owner, times.
Entry entry_from_stat(const std::string& path, const struct stat& st) {
	Entry e;
	e.path = path;
	e.mode = st.st_mode & 07777;
	e.uid = st.st_uid;
	e.gid = st.st_gid;
	e.mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec)};
	e.atime = {st.st_atim.tv_sec, static_cast<uint32_t>(st.st_atim.tv_nsec)};
	e.ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec)};
	return e;
}

struct Walker {
	bool with_data;
	const std::function<void(const Entry&, DataReader&, uint64_t)>& fn;
	std::map<std::pair<dev_t, ino_t>, std::string> links;
	std::string root;

	std::vector<Xattr> xattrs(const std::string& full, const std::string& shown) {
		std::vector<Xattr> out;
		ssize_t n = ::llistxattr(full.c_str(), nullptr, 0);
		if (n <= 0) return out;
		std::string names(static_cast<size_t>(n), '\0');
		n = ::llistxattr(full.c_str(), names.data(), names.size());
		if (n < 0) fail_errno("list xattrs of " + shown);
		names.resize(static_cast<size_t>(n));
		for (size_t i = 0; i < names.size();) {
			std::string name = names.c_str() + i;
			i += name.size() + 1;
			ssize_t vn = ::lgetxattr(full.c_str(), name.c_str(), nullptr, 0);
			if (vn < 0) continue;
			std::string value(static_cast<size_t>(vn), '\0');
			vn = ::lgetxattr(full.c_str(), name.c_str(), value.data(), value.size());
			if (vn < 0) continue;
			value.resize(static_cast<size_t>(vn));
			out.push_back({name, value});
		}
		return out;
	}

	void entry(int dirfd, const std::string& name, const std::string& rel) {
		std::string full = root + "/" + rel;
		struct stat st;
		if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) fail_errno("stat " + full);
		Entry e = entry_from_stat(rel, st);
		NoData none;
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
			auto [it, fresh] = links.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
			if (!fresh) {
				e.type = EntryType::hardlink;
				e.target = it->second;
				fn(e, none, 0);
				return;
			}
		}
		e.xattrs = xattrs(full, full);
		switch (st.st_mode & S_IFMT) {
		case S_IFDIR: {
			e.type = EntryType::directory;
			fn(e, none, 0);
			UniqueFd sub = open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			children(std::move(sub), rel);
			return;
		}
		case S_IFREG: {
			e.type = EntryType::regular;
			e.size = static_cast<uint64_t>(st.st_size);
			uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
			e.sparse = allocated < e.size;
			uint64_t blocks = blocks_for(std::min(e.size, allocated + kBlockSize));
			if (!with_data) {
				fn(e, none, blocks);
				return;
			}
			UniqueFd f = open_at(dirfd, name, O_RDONLY | O_NOFOLLOW);
			FileReader r(f.get(), e.size, full);
			fn(e, r, blocks);
			return;
		}
		case S_IFLNK: {
			e.type = EntryType::symlink;
			std::string target(4096, '\0');
			ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
			if (n < 0) fail_errno("readlink " + full);
			target.resize(static_cast<size_t>(n));
			e.target = target;
			break;
		}
		case S_IFCHR:
		case S_IFBLK:
			e.type = S_ISCHR(st.st_mode) ? EntryType::chardev : EntryType::blockdev;
			e.dev_major = major(st.st_rdev);
			e.dev_minor = minor(st.st_rdev);
			break;
		case S_IFIFO: e.type = EntryType::fifo; break;
		case S_IFSOCK: e.type = EntryType::socket; break;
		default: fail(full + ": unsupported file type");
		}
		fn(e, none, 0);
	}

	void children(UniqueFd dir, const std::string& rel) {
		int fd = dir.get();
		DIR* d = ::fdopendir(::dup(fd));
		if (!d) fail_errno("open directory " + root + "/" + rel);
		std::vector<std::string> names;
		errno = 0;
		while (dirent* de = ::readdir(d)) {
			std::string n = de->d_name;
			if (n != "." && n != "..") names.push_back(std::move(n));
		}
		int err = errno;
		::closedir(d);
		if (err) fail_errno("read directory " + root + "/" + rel, err);
		std::sort(names.begin(), names.end());
		for (const std::string& n : names) entry(fd, n, rel.empty() ? n : rel + "/" + n);
	}
};

}  // namespace

void walk_directory(const std::string& root, bool with_data,
                    const std::function<void(const Entry&, DataReader&, uint64_t)>& fn) {
	Walker w{with_data, fn, {}, root};
	UniqueFd top = open_file(root, O_RDONLY | O_DIRECTORY);
	struct stat st;
	if (::fstat(top.get(), &st) < 0) fail_errno("stat " + root);
	Entry e = entry_from_stat(".", st);
	e.type = EntryType::directory;
	e.xattrs = w.xattrs(root, root);
	NoData none;
	fn(e, none, 0);
	w.children(std::move(top), "");
}

}  // namespace bencher::rootfs
