// build.cc: mkrootfs's job (see build.hh). The size must be known before the
// file system is laid out, so an automatic size needs the content's size
// first: a directory is walked, a tar file is pre-scanned (headers only,
// seeking over data), and a pipe is either sized from oci-unpack's estimate
// (--estimate-from) or copied to an unnamed spool file while it is scanned,
// then read back. With --size or an estimate the stream is written directly.
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

// Where the entries come from.
struct Input {
	Kind kind = Kind::stream;
	std::string name;  // for messages
	UniqueFd fd;       // the tar file, when one is named
	int in_fd = 0;     // what the tar is read from: stdin, the file, or the spool
	UniqueFd spool;
};

Input open_input(const BuildOptions& o) {
	Input in;
	bool from_stdin = o.source.empty() || o.source == "-";
	in.name = from_stdin ? "stdin" : o.source;
	struct stat st;
	if (!from_stdin) {
		if (::stat(o.source.c_str(), &st) < 0) fail_errno(o.source);
		if (S_ISDIR(st.st_mode)) {
			in.kind = Kind::directory;
		} else {
			in.fd = open_file(o.source, O_RDONLY);
			in.in_fd = in.fd.get();
		}
	}
	if (in.kind != Kind::directory && ::fstat(in.in_fd, &st) == 0 && S_ISREG(st.st_mode)) in.kind = Kind::tar_file;
	return in;
}

struct InitFile {
	UniqueFd fd;
	uint64_t size = 0;
};

// The init file is checked before anything is written.
InitFile open_init(const std::string& path) {
	InitFile init;
	if (path.empty()) return init;
	init.fd = open_file(path, O_RDONLY);
	struct stat st;
	if (::fstat(init.fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) fail(path + ": --init needs a regular file");
	init.size = static_cast<uint64_t>(st.st_size);
	return init;
}

std::array<uint8_t, 16> choose_uuid(const BuildOptions& o, int64_t now) {
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
	return uuid;
}

// How much the content needs, before the file system is laid out. Returns
// whether `est` counts the content exactly; it is a guess from oci-unpack's
// estimate, and nothing at all with --size and a stream.
bool size_content(const BuildOptions& o, Input& in, Estimate& est, BuildResult& res) {
	if (in.kind == Kind::directory) {
		walk_directory(o.source, false, [&](const Entry& e, DataReader&, uint64_t blocks) { est.add(e, blocks); });
		return true;
	}
	if (o.size.size) return false;
	if (in.kind == Kind::stream && o.estimate) {
		BLOG_INFO("%s: sized from the estimate: %llu bytes, %llu entries", in.name.c_str(),
			  (unsigned long long)o.estimate->bytes, (unsigned long long)o.estimate->entries);
		est = estimate_stream(*o.estimate);
		return false;
	}
	if (in.kind == Kind::stream) {
		in.spool = spool_file(o.spool_dir.empty() ? dir_of(o.output) : o.spool_dir);
		res.spooled = true;
		BLOG_INFO("%s: not seekable: spooling to size the image", in.name.c_str());
	}
	TarReader scan(in.in_fd, in.name, in.spool ? in.spool.get() : -1);
	scan_rest(scan, est);
	if (in.spool) in.in_fd = in.spool.get();
	if (::lseek(in.in_fd, 0, SEEK_SET) < 0) fail_errno("rewind " + in.name);
	return true;
}

void install_init(Ext4Writer& w, const BuildOptions& o, const InitFile& init, int64_t now) {
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
	f.size = init.size;
	FileReader r(init.fd.get(), init.size, o.init);
	w.replace(f, r);
	for (const char* m : kMountPoints) w.ensure_dir(m, std::string(m) == "tmp" ? 01777 : 0755);
}

// Writes the content; `seen` counts what a stream held, for the message
// when it does not fit.
void write_content(Ext4Writer& w, const BuildOptions& o, Input& in, std::unique_ptr<TarReader>& reader,
		   Estimate* seen) {
	if (in.kind == Kind::directory) {
		walk_directory(o.source, true, [&](const Entry& e, DataReader& d, uint64_t) { w.add(e, d); });
		return;
	}
	reader = std::make_unique<TarReader>(in.in_fd, in.name);
	Entry e;
	while (reader->next(e)) {
		if (seen) seen->add(e, reader->data_blocks(), reader->data_regions());
		w.add(e, reader->data());
	}
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
	Input in = open_input(o);
	InitFile init = open_init(o.init);
	int64_t now = o.source_date_epoch ? *o.source_date_epoch : static_cast<int64_t>(::time(nullptr));
	std::array<uint8_t, 16> uuid = choose_uuid(o, now);

	// Size the content first unless --size says how big.
	Estimate est;
	bool exact = size_content(o, in, est, res);
	bool known = exact || (in.kind == Kind::stream && o.estimate && !o.size.size);
	Estimate created;
	if (init.fd) created.add_created(2, blocks_for(init.size));
	created.add_created(5, 0);
	est.add_created(created.inodes, created.blocks);
	// What a stream not counted ahead turns out to hold.
	Estimate seen = created;

	Geometry g = plan(est, o.size, known);
	if (o.size.size && exact && g.blocks * kBlockSize < minimum_size(est, o.size.journal) / 2)
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
		write_content(w, o, in, reader, exact ? nullptr : &seen);
		if (init.fd) install_init(w, o, init, now);
		w.finish();
	} catch (const OutOfSpace& e) {
		BLOG_DEBUG("out of space: %s", e.what());
		if (!exact && reader) {
			// Count the rest of the stream, to say how much it needs.
			try {
				scan_rest(*reader, seen);
			} catch (const Error&) {
			}
		}
		const Estimate& need = exact ? est : seen;
		fail(strprintf("%s: out of space: needs at least %s", o.output.c_str(), human(minimum_size(need, o.size.journal)).c_str()));
	}
	if (::ftruncate(out.fd(), static_cast<off_t>(g.blocks * kBlockSize)) < 0) fail_errno("resize " + out.temp_path());
	out.commit();
	res.size = g.blocks * kBlockSize;
	res.inodes = g.inodes;
	return res;
}

}  // namespace bencher::rootfs
