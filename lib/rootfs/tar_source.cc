// tar_source.cc: libarchive tar reading (see tar_source.hh). Only the tar
// formats and in-process decompressors are enabled: the input is untrusted,
// so no external filter programs and no other archive formats.
#include "rootfs/tar_source.hh"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"

namespace bencher::rootfs {

namespace {
constexpr size_t kReadSize = 1 << 20;
constexpr size_t kMaxXattrBytes = 1 << 16;  // ext4 keeps xattrs within one block anyway
}  // namespace

struct TarReader::Impl : DataReader {
	int fd;
	std::string name;
	int spool;
	bool seekable = false;
	archive* a = nullptr;
	std::vector<char> buf;
	std::string cb_error;  // set by callbacks, which must not throw

	Impl(int fd_, std::string name_, int spool_) : fd(fd_), name(std::move(name_)), spool(spool_), buf(kReadSize) {
		struct stat st;
		seekable = spool < 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		a = archive_read_new();
		if (!a) fail("libarchive: out of memory");
		archive_read_support_format_tar(a);
		archive_read_support_filter_gzip(a);
		archive_read_support_filter_bzip2(a);
		archive_read_support_filter_xz(a);
		archive_read_support_filter_zstd(a);
		archive_read_support_filter_lz4(a);
		archive_read_set_callback_data(a, this);
		archive_read_set_read_callback(a, read_cb);
		archive_read_set_skip_callback(a, skip_cb);
		if (archive_read_open1(a) != ARCHIVE_OK) {
			std::string why = reason();
			archive_read_free(a);  // the destructor does not run for a throwing constructor
			a = nullptr;
			fail(name + ": " + why);
		}
	}
	~Impl() override { archive_read_free(a); }

	std::string reason() const {
		std::string why = !cb_error.empty() ? cb_error : archive_error_string(a) ? archive_error_string(a) : "unknown error";
		if (why == "Unrecognized archive format") why = "not a tar archive";
		return why;
	}
	[[noreturn]] void fail_archive(const std::string& what = "") { fail(name + ": " + (what.empty() ? "" : what + ": ") + reason()); }

	static la_ssize_t read_cb(archive* ar, void* ud, const void** out) {
		auto* self = static_cast<Impl*>(ud);
		ssize_t n;
		do n = ::read(self->fd, self->buf.data(), self->buf.size());
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			self->cb_error = errno_message("read", errno);
			archive_set_error(ar, errno, "%s", self->cb_error.c_str());
			return -1;
		}
		if (n > 0 && self->spool >= 0) {
			try {
				write_all(self->spool, self->buf.data(), static_cast<size_t>(n), "write spool file");
			} catch (const Error& e) {
				self->cb_error = e.what();
				archive_set_error(ar, EIO, "%s", e.what());
				return -1;
			}
		}
		*out = self->buf.data();
		return n;
	}

	static la_int64_t skip_cb(archive*, void* ud, la_int64_t request) {
		auto* self = static_cast<Impl*>(ud);
		if (!self->seekable || request <= 0) return 0;  // libarchive reads instead
		// Never seek past the end: reading up to it lets libarchive see a
		// truncated archive as one.
		struct stat st;
		off_t pos = ::lseek(self->fd, 0, SEEK_CUR);
		if (pos < 0 || ::fstat(self->fd, &st) < 0) return 0;
		la_int64_t room = st.st_size > pos ? st.st_size - pos : 0;
		if (request > room) request = room;
		if (request <= 0 || ::lseek(self->fd, request, SEEK_CUR) < 0) return 0;
		return request;
	}

	bool next(uint64_t& offset, const void*& data, size_t& len) override {
		la_int64_t off = 0;
		int r = archive_read_data_block(a, &data, &len, &off);
		if (r == ARCHIVE_EOF) return false;
		if (r < ARCHIVE_WARN) fail_archive(current);
		if (off < 0) fail(name + ": " + current + ": negative data offset");
		offset = static_cast<uint64_t>(off);
		return true;
	}

	std::string current;
};

TarReader::TarReader(int fd, std::string name, int spool_fd) : impl_(std::make_unique<Impl>(fd, std::move(name), spool_fd)) {}

TarReader::~TarReader() = default;

DataReader& TarReader::data() { return *impl_; }

namespace {

[[noreturn]] void bad_entry(const std::string& source, const Entry& e, const char* why) {
	fail(source + ": " + e.path + ": " + why);
}

void read_type(archive_entry* ae, Entry& e, const std::string& source) {
	if (const char* hl = archive_entry_hardlink(ae)) {
		e.type = EntryType::hardlink;
		e.target = hl;
		return;
	}
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG: e.type = EntryType::regular; break;
	case AE_IFDIR: e.type = EntryType::directory; break;
	case AE_IFLNK: e.type = EntryType::symlink; break;
	case AE_IFCHR: e.type = EntryType::chardev; break;
	case AE_IFBLK: e.type = EntryType::blockdev; break;
	case AE_IFIFO: e.type = EntryType::fifo; break;
	case AE_IFSOCK: e.type = EntryType::socket; break;
	default: bad_entry(source, e, "unsupported entry type");
	}
	if (e.type == EntryType::symlink) {
		const char* t = archive_entry_symlink(ae);
		e.target = t ? t : "";
	}
}

void read_attributes(archive_entry* ae, Entry& e, const std::string& source) {
	e.mode = archive_entry_perm(ae) & 07777;
	la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
	if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX) bad_entry(source, e, "owner out of range");
	e.uid = static_cast<uint32_t>(uid);
	e.gid = static_cast<uint32_t>(gid);
	e.mtime = {archive_entry_mtime(ae), static_cast<uint32_t>(archive_entry_mtime_nsec(ae))};
	e.atime = archive_entry_atime_is_set(ae) ? Timestamp{archive_entry_atime(ae), static_cast<uint32_t>(archive_entry_atime_nsec(ae))} : e.mtime;
	e.ctime = archive_entry_ctime_is_set(ae) ? Timestamp{archive_entry_ctime(ae), static_cast<uint32_t>(archive_entry_ctime_nsec(ae))} : e.mtime;
	if (e.type == EntryType::chardev || e.type == EntryType::blockdev) {
		e.dev_major = static_cast<uint32_t>(archive_entry_rdevmajor(ae));
		e.dev_minor = static_cast<uint32_t>(archive_entry_rdevminor(ae));
	}
	size_t xattr_bytes = 0;
	if (archive_entry_xattr_reset(ae) > 0) {
		const char* xn;
		const void* xv;
		size_t xs;
		while (archive_entry_xattr_next(ae, &xn, &xv, &xs) == ARCHIVE_OK) {
			xattr_bytes += strlen(xn) + xs;
			if (xattr_bytes > kMaxXattrBytes) bad_entry(source, e, "extended attributes too large");
			std::string value(static_cast<const char*>(xv), xs);
			// pax writers may carry one xattr twice (LIBARCHIVE. and SCHILY.)
			auto same = std::find_if(e.xattrs.begin(), e.xattrs.end(), [&](const Xattr& x) { return x.name == xn; });
			if (same != e.xattrs.end()) same->value = std::move(value);
			else e.xattrs.push_back({xn, std::move(value)});
		}
	}
}

}  // namespace

bool TarReader::next(Entry& e) {
	Impl& m = *impl_;
	archive_entry* ae = nullptr;
	int r;
	for (int tries = 0;; tries++) {
		r = archive_read_next_header(m.a, &ae);
		if (r != ARCHIVE_RETRY || tries > 16) break;
	}
	if (r == ARCHIVE_EOF) return false;
	if (r < ARCHIVE_WARN) m.fail_archive(m.current.empty() ? "" : "after " + m.current);
	const char* path = archive_entry_pathname(ae);
	if (!path) m.fail_archive("entry without a readable name");
	if (r == ARCHIVE_WARN) BLOG_WARN("%s: %s: %s", m.name.c_str(), path, archive_error_string(m.a));
	m.current = path;
	e = Entry{};
	e.path = path;
	read_type(ae, e, m.name);
	read_attributes(ae, e, m.name);
	data_blocks_ = 0;
	data_regions_ = 0;
	if (e.type == EntryType::regular) {
		la_int64_t size = archive_entry_size(ae);
		if (size < 0) bad_entry(m.name, e, "negative size");
		e.size = static_cast<uint64_t>(size);
		if (archive_entry_sparse_reset(ae) > 0) {
			e.sparse = true;
			la_int64_t off, len;
			while (archive_entry_sparse_next(ae, &off, &len) == ARCHIVE_OK) {
				if (off < 0 || len <= 0) continue;
				data_blocks_ += (static_cast<uint64_t>(off + len - 1) / kBlockSize) - static_cast<uint64_t>(off) / kBlockSize + 1;
				data_regions_++;
			}
		} else {
			data_blocks_ = blocks_for(e.size);
			data_regions_ = 1;
		}
	}
	return true;
}

void scan_rest(TarReader& r, Estimate& est) {
	Entry e;
	while (r.next(e)) est.add(e, r.data_blocks(), r.data_regions());
}

}  // namespace bencher::rootfs
