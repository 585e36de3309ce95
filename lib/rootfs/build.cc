// build.cc: mkrootfs's job (see build.hh). The size must be known before the
// file system is laid out, so an automatic size needs the content's size
// first: a directory is walked, a tar file is pre-scanned (headers only,
// seeking over data), and a pipe is copied to an unnamed spool file while it
// is scanned, then read back. With --size the stream is written directly.
#include "rootfs/build.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "common/digest.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "common/size.hh"
#include "rootfs/dir_source.hh"
#include "rootfs/ext4_writer.hh"
#include "rootfs/tar_source.hh"

namespace bencher::rootfs {

namespace {

constexpr const char* kMountPoints[] = {"proc", "sys", "dev", "run", "tmp"};

enum class Kind { directory, tar_file, stream };

std::string dir_of(const std::string& path) {
	size_t slash = path.find_last_of('/');
	if (slash == std::string::npos) return ".";
	return slash == 0 ? "/" : path.substr(0, slash);
}

UniqueFd spool_file(const std::string& dir) {
	int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) return UniqueFd(fd);
	std::string templ = dir + "/.mkrootfs-spool.XXXXXX";
	fd = ::mkostemp(templ.data(), O_CLOEXEC);
	if (fd < 0) fail_errno("create spool file in " + dir);
	::unlink(templ.c_str());
	return UniqueFd(fd);
}

std::string human(uint64_t bytes) {
	uint64_t mib = (bytes + (1 << 20) - 1) >> 20;
	return format_size(mib << 20);
}

}  // namespace

std::array<uint8_t, 16> parse_uuid(std::string_view text) {
	std::array<uint8_t, 16> out{};
	if (text.size() != 36) fail_usage("--uuid: expected the form 01234567-89ab-cdef-0123-456789abcdef");
	size_t k = 0;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-') fail_usage("--uuid: expected the form 01234567-89ab-cdef-0123-456789abcdef");
			i++;
			continue;
		}
		auto hex = [&](char c) -> int {
			if (c >= '0' && c <= '9') return c - '0';
			if (c >= 'a' && c <= 'f') return c - 'a' + 10;
			if (c >= 'A' && c <= 'F') return c - 'A' + 10;
			fail_usage("--uuid: not a hex digit in " + std::string(text));
		};
		out[k++] = static_cast<uint8_t>(hex(text[i]) << 4 | hex(text[i + 1]));
		i += 2;
	}
	return out;
}

BuildResult build(const BuildOptions& o) {
	BuildResult res;
	bool from_stdin = o.source.empty() || o.source == "-";
	std::string src_name = from_stdin ? "stdin" : o.source;
	Kind kind = Kind::stream;
	UniqueFd src_fd;
	int in_fd = 0;
	struct stat st;
	if (!from_stdin) {
		if (::stat(o.source.c_str(), &st) < 0) fail_errno(o.source);
		if (S_ISDIR(st.st_mode)) {
			kind = Kind::directory;
		} else {
			src_fd = open_file(o.source, O_RDONLY);
			in_fd = src_fd.get();
		}
	}
	if (kind != Kind::directory && ::fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode)) kind = Kind::tar_file;

	// The init file is checked before anything is written.
	UniqueFd init_fd;
	uint64_t init_size = 0;
	if (!o.init.empty()) {
		init_fd = open_file(o.init, O_RDONLY);
		struct stat ist;
		if (::fstat(init_fd.get(), &ist) < 0 || !S_ISREG(ist.st_mode)) fail(o.init + ": --init needs a regular file");
		init_size = static_cast<uint64_t>(ist.st_size);
	}

	int64_t now = o.source_date_epoch ? *o.source_date_epoch : static_cast<int64_t>(::time(nullptr));
	std::array<uint8_t, 16> uuid;
	if (o.uuid) {
		uuid = *o.uuid;
	} else if (o.source_date_epoch) {
		// Reproducible by default when SOURCE_DATE_EPOCH asks for it.
		Sha256 h;
		h.update(strprintf("mkrootfs uuid %lld %s", (long long)now, o.label.c_str()));
		Sha256Digest d = h.finish();
		std::copy(d.begin(), d.begin() + 16, uuid.begin());
	} else {
		random_bytes(uuid.data(), uuid.size());
	}
	uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0f) | (o.uuid ? uuid[6] & 0xf0 : 0x40));
	if (!o.uuid) uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);

	// Size the content first unless --size says how big.
	Estimate est;
	bool known = false;
	UniqueFd spool;
	if (kind == Kind::directory) {
		walk_directory(o.source, false, [&](const Entry& e, DataReader&, uint64_t blocks) { est.add(e, blocks); });
		known = true;
	} else if (!o.size.size) {
		if (kind == Kind::stream) {
			spool = spool_file(o.spool_dir.empty() ? dir_of(o.output) : o.spool_dir);
			res.spooled = true;
			BLOG_INFO("%s: not seekable: spooling to size the image", src_name.c_str());
		}
		TarReader scan(in_fd, src_name, spool ? spool.get() : -1);
		scan_rest(scan, est);
		if (spool) {
			in_fd = spool.get();
		}
		if (::lseek(in_fd, 0, SEEK_SET) < 0) fail_errno("rewind " + src_name);
		known = true;
	}
	if (init_fd) est.add_created(2, blocks_for(init_size));
	est.add_created(5, 0);

	Geometry g = plan(est, o.size, known);
	if (o.size.size && known && g.blocks * kBlockSize < minimum_size(est, o.size.journal) / 2)
		fail(strprintf("%s: out of space: needs at least %s", o.output.c_str(), human(minimum_size(est, o.size.journal)).c_str()));
	BLOG_INFO("%s: %llu blocks of 4K, %llu inodes", o.output.c_str(), (unsigned long long)g.blocks, (unsigned long long)g.inodes);

	AtomicFile out(o.output, 0644);
	WriterOptions wo;
	wo.blocks = g.blocks;
	wo.inodes = g.inodes;
	wo.journal_blocks = g.journal_blocks;
	wo.label = o.label;
	wo.uuid = uuid;
	wo.now = now;

	std::unique_ptr<TarReader> reader;
	try {
		Ext4Writer w(out.temp_path(), out.fd(), wo);
		if (kind == Kind::directory) {
			walk_directory(o.source, true, [&](const Entry& e, DataReader& d, uint64_t) { w.add(e, d); });
		} else {
			reader = std::make_unique<TarReader>(in_fd, src_name);
			Entry e;
			while (reader->next(e)) {
				if (!known) est.add(e, reader->data_blocks(), reader->data_regions());
				w.add(e, reader->data());
			}
		}
		if (init_fd) {
			std::string top = std::string(kInitPath).substr(0, std::string(kInitPath).find('/'));
			Entry d;
			d.path = top;
			d.type = EntryType::directory;
			d.mode = 0755;
			d.mtime = d.atime = d.ctime = {now, 0};
			NoData none;
			w.replace(d, none);
			Entry f = d;
			f.path = kInitPath;
			f.type = EntryType::regular;
			f.size = init_size;
			FileReader r(init_fd.get(), init_size, o.init);
			w.replace(f, r);
			for (const char* m : kMountPoints) w.ensure_dir(m, std::string(m) == "tmp" ? 01777 : 0755);
		}
		w.finish();
	} catch (const OutOfSpace& e) {
		BLOG_DEBUG("out of space: %s", e.what());
		if (!known && reader) {
			// Count the rest of the stream, to say how much it needs.
			try {
				scan_rest(*reader, est);
			} catch (const Error&) {
			}
		}
		fail(strprintf("%s: out of space: needs at least %s", o.output.c_str(), human(minimum_size(est, o.size.journal)).c_str()));
	}
	if (::ftruncate(out.fd(), static_cast<off_t>(g.blocks * kBlockSize)) < 0) fail_errno("resize " + out.temp_path());
	out.commit();
	res.size = g.blocks * kBlockSize;
	res.inodes = g.inodes;
	return res;
}

}  // namespace bencher::rootfs
