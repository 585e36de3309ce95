// flatten.cc: the two-pass layer flattener (see flatten.hh for the plan).
#include "oci/flatten.hh"

#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/error.hh"
#include "common/path.hh"
#include "common/log.hh"

namespace bencher::oci {

namespace {

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxLayers = 1000;
constexpr size_t kBufSize = 256 * 1024;

[[noreturn]] void unsafe(const std::string& what, const std::string& path, const std::string& why) {
	fail(what + ": " + (path.empty() ? std::string("/") : path) + ": " + why, kExitUnsafe);
}

enum class Kind : uint8_t { Skip, Dir, NonDir, Whiteout, Opaque };

struct Classified {
	Kind kind;
	std::string path;  // the entry's path, or the path a whiteout/opaque marker acts on
};

Classified classify(archive_entry* e, const std::string& what) {
	const char* raw = archive_entry_pathname(e);
	if (raw == nullptr) fail(what + ": an entry has no readable path name", kExitUnsafe);
	std::string p = normalize_path(raw, what);
	size_t slash = p.rfind('/');
	std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
	std::string parent = slash == std::string::npos ? "" : p.substr(0, slash);
	if (base.compare(0, 4, ".wh.") == 0) {
		if (base == ".wh..wh..opq") return {Kind::Opaque, parent};
		if (base.compare(0, 8, ".wh..wh.") == 0) return {Kind::Skip, p};  // aufs bookkeeping
		std::string name = base.substr(4);
		if (name.empty() || name == "." || name == "..") unsafe(what, p, "whiteout names '" + name + "'");
		return {Kind::Whiteout, parent.empty() ? name : parent + "/" + name};
	}
	if (p.empty()) return {Kind::Skip, p};  // the root itself
	if (archive_entry_hardlink(e) != nullptr) return {Kind::NonDir, p};
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return {Kind::Dir, p};
	case AE_IFREG:
	case AE_IFLNK:
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		return {Kind::NonDir, p};
	case AE_IFSOCK:
		return {Kind::Skip, p};  // a socket cannot be restored; tar skips it too
	default:
		unsafe(what, p, strprintf("unsupported entry type 0%o", (unsigned)archive_entry_filetype(e)));
	}
}

// A relative symlink may not climb above the root from where it sits.
void check_symlink(const std::string& what, const std::string& path, const char* target) {
	if (target == nullptr || *target == '\0') unsafe(what, path, "symlink with an empty target");
	std::string t = target;
	long depth = 0;
	if (t[0] != '/') depth = std::count(path.begin(), path.end(), '/');
	for (std::string_view c : path_components(t)) {
		if (c != "..")
			depth++;
		else if (--depth < 0)
			unsafe(what, path, "symlink target '" + t + "' points outside the root");
	}
}

// Ancestors of "a/b/c": "", "a", "a/b".
template <typename F>
bool any_ancestor(const std::string& p, F f) {
	if (f(std::string())) return true;
	for (size_t i = p.find('/'); i != std::string::npos; i = p.find('/', i + 1))
		if (f(p.substr(0, i))) return true;
	return false;
}

struct ArchiveFree {
	void operator()(archive* a) const { archive_read_free(a); }
};
using ReadArchive = std::unique_ptr<archive, ArchiveFree>;

ReadArchive new_read_archive() {
	ReadArchive a(archive_read_new());
	if (!a) fail("out of memory");
	return a;
}

// The tar bytes of one layer, for a LayerStream to parse.
class TarBytes {
public:
	virtual ~TarBytes() = default;
	virtual size_t read(void* buf, size_t len) = 0;
	// Called at the end of the tar stream: whatever must still be checked
	// (the rest of the blob's digest) is checked.
	virtual void finish() = 0;
	// The compressed bytes behind the tar bytes, for the expansion bound
	// (0: unknown, no bound).
	virtual uint64_t packed() const = 0;
};

// A layer blob, decompressed (libarchive's raw format over its filters) and
// verified as it streams. keep_copy() also writes the tar bytes to a file,
// so pass 2 reads them back instead of decompressing the blob again.
class BlobBytes : public TarBytes {
public:
	explicit BlobBytes(const Layer& layer)
	    : layer_(layer), vr_(layer.open(), layer.digest, layer.size, layer.what), a_(new_read_archive()) {
		archive_read_support_format_raw(a_.get());
		archive_read_support_format_empty(a_.get());
		archive_read_support_filter_gzip(a_.get());
		archive_read_support_filter_zstd(a_.get());
		archive_entry* e = nullptr;
		int r = archive_read_open(a_.get(), this, nullptr, &BlobBytes::read_cb, nullptr);
		if (r == ARCHIVE_OK) r = archive_read_next_header(a_.get(), &e);
		if (r == ARCHIVE_EOF) eof_ = true;
		else if (r < ARCHIVE_WARN) failed();
	}

	bool compressed() const { return archive_filter_code(a_.get(), 0) != ARCHIVE_FILTER_NONE; }
	void keep_copy(int fd) { copy_fd_ = fd; }

	size_t read(void* buf, size_t len) override {
		if (eof_) return 0;
		la_ssize_t n = archive_read_data(a_.get(), buf, len);
		if (n < 0) failed();
		if (n == 0) eof_ = true;
		if (n > 0 && copy_fd_ >= 0) write_all(copy_fd_, buf, static_cast<size_t>(n), "write a temporary file");
		return static_cast<size_t>(n);
	}
	void finish() override { vr_.drain(); }
	uint64_t packed() const override { return layer_.size > 0 ? static_cast<uint64_t>(layer_.size) : vr_.bytes(); }

private:
	// A digest or I/O failure explains a decoding error that follows it.
	[[noreturn]] void failed() {
		if (error_) std::rethrow_exception(error_);
		std::string msg = archive_error_string(a_.get()) ? archive_error_string(a_.get()) : "unknown error";
		// A corrupt stream is often a damaged download: let the digest say so.
		vr_.drain();
		fail(layer_.what + ": corrupt layer: " + msg, kExitIntegrity);
	}

	static la_ssize_t read_cb(archive* a, void* ctx, const void** out) {
		auto* s = static_cast<BlobBytes*>(ctx);
		try {
			*out = s->raw_;
			return static_cast<la_ssize_t>(s->vr_.read(s->raw_, sizeof s->raw_));
		} catch (...) {
			s->error_ = std::current_exception();
			archive_set_error(a, EIO, "blob read failed");
			return -1;
		}
	}

	const Layer& layer_;
	VerifyingReader vr_;
	ReadArchive a_;
	std::exception_ptr error_;
	int copy_fd_ = -1;
	bool eof_ = false;
	char raw_[kBufSize];
};

// The copy of a layer's tar bytes that pass 1 kept: already verified.
class KeptBytes : public TarBytes {
public:
	KeptBytes(const Layer& layer, std::shared_ptr<UniqueFd> fd)
	    : layer_(layer), in_(fd, 0, file_size(fd->get()), "a temporary file") {}
	size_t read(void* buf, size_t len) override { return in_.read(buf, len); }
	void finish() override {}
	uint64_t packed() const override { return layer_.size > 0 ? static_cast<uint64_t>(layer_.size) : 0; }

private:
	static uint64_t file_size(int fd) {
		off_t end = ::lseek(fd, 0, SEEK_END);
		if (end < 0) fail_errno("size a temporary file");
		return static_cast<uint64_t>(end);
	}

	const Layer& layer_;
	FdRangeReader in_;
};

// Parses one layer's tar bytes with libarchive, bounding what they expand to.
class LayerStream {
public:
	LayerStream(const Layer& layer, const FlattenOptions& opt, std::unique_ptr<TarBytes> in)
	    : layer_(layer), opt_(opt), in_(std::move(in)), a_(new_read_archive()) {
		archive_read_support_format_tar(a_.get());
		archive_read_support_format_gnutar(a_.get());
		buf_.resize(kBufSize);
		if (archive_read_open(a_.get(), this, nullptr, &LayerStream::read_cb, nullptr) != ARCHIVE_OK) failed();
	}
	LayerStream(const LayerStream&) = delete;
	LayerStream& operator=(const LayerStream&) = delete;

	// The next entry, or nullptr at the end of the layer, once the whole
	// blob has been read and its digest checked.
	archive_entry* next() {
		archive_entry* e = nullptr;
		int r = archive_read_next_header(a_.get(), &e);
		if (r == ARCHIVE_EOF) {
			try {
				in_->finish();
			} catch (...) {
				error_ = std::current_exception();
			}
			if (error_) std::rethrow_exception(error_);
			return nullptr;
		}
		if (r < ARCHIVE_WARN) failed();
		if (r == ARCHIVE_WARN) BLOG_DEBUG("%s: %s", layer_.what.c_str(), archive_error_string(a_.get()));
		entries_++;
		budget(archive_entry_size_is_set(e) ? std::max<int64_t>(archive_entry_size(e), 0) : 0);
		return e;
	}

	// The uncompressed bytes this layer will have produced once the current
	// entry's data is read: bounded in total and against the compressed size.
	void budget(uint64_t pending) {
		uint64_t pos = static_cast<uint64_t>(archive_filter_bytes(a_.get(), 0)) + pending;
		if (pos > opt_.max_size)
			fail(strprintf("%s: more than %llu uncompressed bytes (raise --max-size): refusing a possible "
				       "decompression bomb",
				       layer_.what.c_str(), (unsigned long long)opt_.max_size),
			     kExitUnsafe);
		uint64_t packed = in_->packed();
		if (pos > opt_.ratio_floor && packed > 0 && pos / packed >= opt_.max_ratio)
			fail(strprintf("%s: expands more than %llu times (raise --max-size to allow it): refusing a "
				       "possible decompression bomb",
				       layer_.what.c_str(), (unsigned long long)opt_.max_ratio),
			     kExitUnsafe);
		uncompressed_ = pos;
	}

	uint64_t uncompressed() const { return uncompressed_; }
	uint64_t entries() const { return entries_; }

	// Reports a libarchive failure, preferring the source's own error (a
	// digest or I/O failure explains a decoding error that follows it).
	[[noreturn]] void failed() {
		if (error_) std::rethrow_exception(error_);
		std::string msg = archive_error_string(a_.get()) ? archive_error_string(a_.get()) : "unknown error";
		in_->finish();
		fail(layer_.what + ": corrupt layer: " + msg, kExitIntegrity);
	}

	// Copies the current entry's data to `sink(buf, n)`.
	template <typename Sink>
	void copy_data(const std::string& path, Sink sink) {
		for (;;) {
			la_ssize_t n = archive_read_data(a_.get(), buf_.data(), buf_.size());
			if (n == 0) return;
			if (n < 0) {
				if (error_) std::rethrow_exception(error_);
				std::string msg = archive_error_string(a_.get()) ? archive_error_string(a_.get()) : "read error";
				fail(layer_.what + ": " + path + ": " + msg, kExitIntegrity);
			}
			sink(buf_.data(), static_cast<size_t>(n));
		}
	}

private:
	static la_ssize_t read_cb(archive* a, void* ctx, const void** out) {
		auto* s = static_cast<LayerStream*>(ctx);
		try {
			*out = s->raw_;
			return static_cast<la_ssize_t>(s->in_->read(s->raw_, sizeof s->raw_));
		} catch (...) {
			s->error_ = std::current_exception();
			archive_set_error(a, EIO, "blob read failed");
			return -1;
		}
	}

	const Layer& layer_;
	const FlattenOptions& opt_;
	std::unique_ptr<TarBytes> in_;
	ReadArchive a_;
	std::exception_ptr error_;
	std::vector<char> buf_;
	char raw_[kBufSize];
	uint64_t uncompressed_ = 0;
	uint64_t entries_ = 0;
};

// What pass 1 learns from one upper layer.
struct LayerIndex {
	std::vector<std::pair<std::string, Kind>> recs;
	std::vector<std::pair<std::string, archive_entry*>> dirs;  // owned clones
	std::vector<std::string> link_targets;
	uint64_t uncompressed = 0;
	std::shared_ptr<UniqueFd> kept;  // the tar bytes of a compressed layer
	LayerIndex() = default;
	LayerIndex(const LayerIndex&) = delete;
	LayerIndex& operator=(const LayerIndex&) = delete;
	LayerIndex(LayerIndex&&) = default;
	~LayerIndex() {
		for (auto& d : dirs) archive_entry_free(d.second);
	}
};

void index_layer(const Layer& layer, const FlattenOptions& opt, LayerIndex& out) {
	auto blob = std::make_unique<BlobBytes>(layer);
	if (blob->compressed()) {
		// Pass 2 needs these bytes again: decompressing once is the cost
		// that matters, a copy through the page cache is cheap.
		out.kept = std::make_shared<UniqueFd>(anonymous_temp_file());
		blob->keep_copy(out.kept->get());
	}
	LayerStream s(layer, opt, std::move(blob));
	while (archive_entry* e = s.next()) {
		if (s.entries() > opt.max_entries)
			fail(strprintf("%s: more than %llu entries", layer.what.c_str(), (unsigned long long)opt.max_entries),
			     kExitUnsafe);
		Classified c = classify(e, layer.what);
		if (c.kind == Kind::Skip) continue;
		if (const char* hl = archive_entry_hardlink(e)) {
			std::string t = normalize_path(hl, layer.what);
			out.link_targets.push_back(t);
		}
		if (c.kind == Kind::Dir) {
			archive_entry* clone = archive_entry_clone(e);
			if (clone == nullptr) fail("out of memory");
			out.dirs.emplace_back(c.path, clone);
		}
		out.recs.emplace_back(std::move(c.path), c.kind);
	}
	out.uncompressed = s.uncompressed();
}

// Per path, the highest layer (1-based; 0 = none) of each kind of change.
struct Marks {
	uint16_t entry = 0, nondir = 0, whiteout = 0, opaque = 0;
};

// The merged tree as of the layer pass 2 is at.
struct Live {
	uint16_t layer;
	bool dir;
	uint32_t group;  // hard-link group of a non-directory (0: none)
};

struct Group {
	std::string anchor;  // the emitted path that carries the data, once written
	archive_entry* spill_entry = nullptr;
	uint64_t spill_off = 0, spill_len = 0;
};

class Flattener {
public:
	Flattener(const std::vector<Layer>& layers, archive* out, const FlattenOptions& opt)
	    : layers_(layers), out_(out), opt_(opt) {}
	~Flattener() {
		for (auto& g : groups_) archive_entry_free(g.spill_entry);
		for (auto& d : top_dirs_) archive_entry_free(d.second);
	}

	FlattenStats run() {
		if (layers_.size() > kMaxLayers) fail(strprintf("image has %zu layers, more than %zu", layers_.size(), kMaxLayers), kExitUnsafe);
		pass1();
		groups_.emplace_back();  // group 0: none
		uint64_t total = 0;
		for (size_t i = 0; i < layers_.size(); i++) total += pass2(i);
		(void)total;
		return stats_;
	}

private:
	void pass1() {
		size_t n = layers_.size();
		if (n < 2) return;
		std::vector<LayerIndex> idx(n);
		std::vector<std::exception_ptr> errs(n);
		unsigned threads = opt_.threads ? opt_.threads : std::max(1u, std::thread::hardware_concurrency());
		size_t next = 1;
		std::mutex mu;
		auto worker = [&] {
			for (;;) {
				size_t i;
				{
					std::lock_guard<std::mutex> lock(mu);
					if (next >= n) return;
					i = next++;
				}
				try {
					index_layer(layers_[i], opt_, idx[i]);
				} catch (...) {
					errs[i] = std::current_exception();
				}
			}
		};
		std::vector<std::thread> pool;
		for (unsigned t = 1; t < std::min<size_t>(threads, n - 1); t++) pool.emplace_back(worker);
		worker();
		for (auto& t : pool) t.join();
		for (auto& e : errs)
			if (e) std::rethrow_exception(e);
		uint64_t total = 0, entries = 0;
		kept_.resize(n);
		for (size_t i = 1; i < n; i++) {
			uint16_t L = static_cast<uint16_t>(i + 1);
			total += idx[i].uncompressed;
			entries += idx[i].recs.size();
			for (auto& [path, kind] : idx[i].recs) {
				Marks& m = marks_[path];
				switch (kind) {
				case Kind::Dir:
					m.entry = L;
					break;
				case Kind::NonDir:
					m.entry = m.nondir = L;
					break;
				case Kind::Whiteout:
					m.whiteout = L;
					break;
				case Kind::Opaque:
					m.opaque = L;
					break;
				case Kind::Skip:
					break;
				}
			}
			for (auto& [path, e] : idx[i].dirs) {
				auto& slot = top_dirs_[path];
				archive_entry_free(slot);
				slot = e;
				e = nullptr;
			}
			for (auto& t : idx[i].link_targets) link_targets_.insert(std::move(t));
			kept_[i] = std::move(idx[i].kept);
			idx[i].recs.clear();
		}
		if (total > opt_.max_size)
			fail(strprintf("image: more than %llu uncompressed bytes (raise --max-size)", (unsigned long long)opt_.max_size),
			     kExitUnsafe);
		if (entries > opt_.max_entries)
			fail(strprintf("image: more than %llu entries", (unsigned long long)opt_.max_entries), kExitUnsafe);
	}

	const Marks* mark(const std::string& p) const {
		auto it = marks_.find(p);
		return it == marks_.end() ? nullptr : &it->second;
	}

	// Does some layer above k remove path p (whiteout, opaque or
	// non-directory ancestor)? Replacement of p itself is separate.
	bool removed_above(const std::string& p, uint16_t k) const {
		if (marks_.empty()) return false;
		if (const Marks* m = mark(p); m && m->whiteout > k) return true;
		return any_ancestor(p, [&](const std::string& a) {
			const Marks* m = mark(a);
			return m && (m->whiteout > k || m->opaque > k || m->nondir > k);
		});
	}

	void remove_live(const std::string& p, uint16_t k, bool inclusive) {
		if (inclusive) {
			auto it = live_.find(p);
			if (it != live_.end() && it->second.layer < k) live_.erase(it);
		}
		auto it = p.empty() ? live_.begin() : live_.lower_bound(p + "/");
		std::string hi = p + "0";  // '0' sorts right after '/'
		while (it != live_.end() && (p.empty() || it->first < hi)) {
			if (it->second.layer < k)
				it = live_.erase(it);
			else
				++it;
		}
	}

	void write_header(archive_entry* e, const std::string& path, bool* ok) {
		*ok = true;
		int r = archive_write_header(out_, e);
		if (r == ARCHIVE_OK) return;
		std::string msg = archive_error_string(out_) ? archive_error_string(out_) : "write failed";
		if (r == ARCHIVE_WARN) {
			BLOG_INFO("%s: %s", path.c_str(), msg.c_str());
			return;
		}
		if (opt_.disk && r == ARCHIVE_FAILED) {
			BLOG_WARN("%s: %s", path.c_str(), msg.c_str());
			*ok = false;
			return;
		}
		fail("write " + path + ": " + msg);
	}

	void write_data(const std::string& path, const void* buf, size_t n) {
		la_ssize_t w = archive_write_data(out_, buf, n);
		if (w < 0 || static_cast<size_t>(w) != n) {
			std::string msg = archive_error_string(out_) ? archive_error_string(out_) : "short write";
			if (opt_.disk) {
				BLOG_WARN("%s: %s", path.c_str(), msg.c_str());
				return;
			}
			fail("write " + path + ": " + msg);
		}
		stats_.bytes_out += n;
	}

	// Every entry's parent directories come before it in the stream: the
	// surviving directory entry of an upper layer (its attributes win), or
	// a synthesised 0755 root directory where no layer has one (as umoci and
	// tar do when extracting). A real entry met later is still written.
	void ensure_parents(const std::string& path, uint16_t k) {
		for (size_t i = path.find('/'); i != std::string::npos; i = path.find('/', i + 1)) {
			std::string a = path.substr(0, i);
			if (emitted_dirs_.count(a) || synthesized_.count(a)) continue;
			const Marks* m = marks_.empty() ? nullptr : mark(a);
			auto td = top_dirs_.find(a);
			if (m && m->entry > k && m->nondir != m->entry && td != top_dirs_.end()) {
				write_entry(td->second, a);
				emitted_dirs_.insert(a);
				continue;
			}
			archive_entry* d = archive_entry_new();
			if (d == nullptr) fail("out of memory");
			ScopeGuard free_d([&] { archive_entry_free(d); });
			archive_entry_set_filetype(d, AE_IFDIR);
			archive_entry_set_perm(d, 0755);
			write_entry(d, a);
			synthesized_.insert(a);
		}
	}

	void write_entry(archive_entry* e, const std::string& path) {
		archive_entry_set_pathname(e, path.c_str());
		bool ok;
		write_header(e, path, &ok);
		stats_.entries_out++;
	}

	void emit(archive_entry* e, const std::string& path) {
		ensure_parents(path, cur_layer_);
		archive_entry_set_pathname(e, path.c_str());
		bool ok;
		write_header(e, path, &ok);
		stats_.entries_out++;
	}

	void emit_with_data(LayerStream& s, archive_entry* e, const std::string& path) {
		ensure_parents(path, cur_layer_);
		archive_entry_set_pathname(e, path.c_str());
		bool ok;
		write_header(e, path, &ok);
		stats_.entries_out++;
		if (!ok) return;
		s.copy_data(path, [&](const char* b, size_t n) { write_data(path, b, n); });
	}

	void spill(LayerStream& s, archive_entry* e, const std::string& path, Group& g) {
		if (!spill_fd_) spill_fd_ = anonymous_temp_file();
		g.spill_entry = archive_entry_clone(e);
		if (g.spill_entry == nullptr) fail("out of memory");
		g.spill_off = spill_end_;
		s.copy_data(path, [&](const char* b, size_t n) {
			write_all(spill_fd_.get(), b, n, "write a temporary file");
			spill_end_ += n;
		});
		g.spill_len = spill_end_ - g.spill_off;
		stats_.spilled += g.spill_len;
	}

	void emit_spilled(Group& g, const std::string& path) {
		archive_entry* e = archive_entry_clone(g.spill_entry);
		if (e == nullptr) fail("out of memory");
		ScopeGuard free_e([&] { archive_entry_free(e); });
		archive_entry_set_hardlink(e, nullptr);
		archive_entry_set_pathname(e, path.c_str());
		archive_entry_set_size(e, static_cast<la_int64_t>(g.spill_len));
		ensure_parents(path, cur_layer_);
		bool ok;
		write_header(e, path, &ok);
		stats_.entries_out++;
		if (!ok) return;
		std::vector<char> buf(kBufSize);
		uint64_t off = g.spill_off, left = g.spill_len;
		while (left > 0) {
			size_t want = std::min<uint64_t>(left, buf.size());
			ssize_t n = ::pread(spill_fd_.get(), buf.data(), want, static_cast<off_t>(off));
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) fail_errno("read a temporary file", n < 0 ? errno : EIO);
			write_data(path, buf.data(), static_cast<size_t>(n));
			off += n;
			left -= n;
		}
	}

	uint64_t pass2(size_t i) {
		const Layer& layer = layers_[i];
		const uint16_t k = static_cast<uint16_t>(i + 1);
		cur_layer_ = k;
		std::unique_ptr<TarBytes> in;
		if (kept_.size() > i && kept_[i])
			in = std::make_unique<KeptBytes>(layer, std::move(kept_[i]));
		else
			in = std::make_unique<BlobBytes>(layer);
		LayerStream s(layer, opt_, std::move(in));
		while (archive_entry* e = s.next()) {
			if (++stats_.entries_in > opt_.max_entries)
				fail(strprintf("image: more than %llu entries", (unsigned long long)opt_.max_entries), kExitUnsafe);
			total_uncompressed_check(s);
			Classified c = classify(e, layer.what);
			const std::string& p = c.path;
			if (c.kind == Kind::Skip) continue;
			if (c.kind == Kind::Whiteout) {
				remove_live(p, k, true);
				continue;
			}
			if (c.kind == Kind::Opaque) {
				remove_live(p, k, false);
				continue;
			}
			// The entry must not reach through a symlink or a file.
			any_ancestor(p, [&](const std::string& a) {
				auto it = live_.find(a);
				if (it != live_.end() && !it->second.dir)
					unsafe(layer.what, p, "parent '" + a + "' is not a directory (path through a symlink?)");
				return false;
			});
			auto cur = live_.find(p);
			if (cur != live_.end() && cur->second.layer == k) unsafe(layer.what, p, "duplicate entry");
			const bool removed = removed_above(p, k);
			const Marks* m = marks_.empty() ? nullptr : mark(p);

			if (c.kind == Kind::Dir) {
				directory(e, p, removed, m);
				continue;
			}

			// A non-directory replaces whatever p was, subtree included.
			if (cur != live_.end() && cur->second.dir) remove_live(p, k, false);
			const bool survives = !removed && !(m && m->entry > k);
			if (archive_entry_hardlink(e)) {
				hard_link(e, p, survives, layer.what);
				continue;
			}
			if (archive_entry_filetype(e) == AE_IFLNK) check_symlink(layer.what, p, archive_entry_symlink(e));
			uint32_t gid = 0;
			if (archive_entry_filetype(e) == AE_IFREG) gid = new_group();
			live_[p] = Live{k, false, gid};
			if (survives) {
				emit_with_data(s, e, p);
				if (gid) groups_[gid].anchor = p;
			} else if (gid && (k == 1 || link_targets_.count(p))) {
				// Replaced later, but a hard link may still need its content.
				spill(s, e, p, groups_[gid]);
			}
		}
		done_uncompressed_ += s.uncompressed();
		return s.uncompressed();
	}

	void directory(archive_entry* e, const std::string& p, bool removed, const Marks* m) {
		live_[p] = Live{cur_layer_, true, 0};
		if (removed || emitted_dirs_.count(p)) return;
		if (m && m->entry > cur_layer_) {
			// An upper layer has p too: if that is the directory that
			// survives, write it here, with its attributes, so parents
			// still come before their children.
			bool top_is_dir = m->nondir != m->entry;
			if (!top_is_dir || removed_above(p, m->entry)) return;
			auto td = top_dirs_.find(p);
			if (td == top_dirs_.end()) return;
			emit(td->second, p);
		} else {
			emit(e, p);
		}
		emitted_dirs_.insert(p);
	}

	// A hard link joins its target's group; the first link written carries
	// the data when the target itself does not survive.
	void hard_link(archive_entry* e, const std::string& p, bool survives, const std::string& what) {
		std::string t = normalize_path(archive_entry_hardlink(e), what);
		if (t == p) unsafe(what, p, "hard link to itself");
		auto it = live_.find(t);
		if (it == live_.end() || it->second.dir)
			unsafe(what, p, "hard link to '" + t + "', which is not an earlier file");
		uint32_t gid = it->second.group;
		if (gid == 0) {
			// A link to a non-regular file (device, symlink): give the
			// target a group now.
			gid = new_group();
			it->second.group = gid;
			if (survive_final(t, it->second.layer)) groups_[gid].anchor = t;
		}
		live_[p] = Live{cur_layer_, false, gid};
		if (!survives) return;
		Group& g = groups_[gid];
		if (!g.anchor.empty()) {
			archive_entry_set_size(e, 0);
			archive_entry_set_hardlink(e, g.anchor.c_str());
			emit(e, p);
		} else if (g.spill_entry) {
			emit_spilled(g, p);
			g.anchor = p;
		} else {
			unsafe(what, p, "hard link to '" + t + "', whose content is not in the image");
		}
	}

	bool survive_final(const std::string& p, uint16_t layer) const {
		const Marks* m = marks_.empty() ? nullptr : mark(p);
		return !removed_above(p, layer) && !(m && m->entry > layer);
	}

	uint32_t new_group() {
		groups_.emplace_back();
		return static_cast<uint32_t>(groups_.size() - 1);
	}

	void total_uncompressed_check(LayerStream& s) {
		if (done_uncompressed_ + s.uncompressed() > opt_.max_size)
			fail(strprintf("image: more than %llu uncompressed bytes (raise --max-size)",
				       (unsigned long long)opt_.max_size),
			     kExitUnsafe);
	}

	const std::vector<Layer>& layers_;
	archive* out_;
	const FlattenOptions& opt_;
	FlattenStats stats_;
	std::unordered_map<std::string, Marks> marks_;
	std::unordered_map<std::string, archive_entry*> top_dirs_;
	std::unordered_set<std::string> link_targets_;
	std::map<std::string, Live> live_;
	std::unordered_set<std::string> emitted_dirs_;
	std::unordered_set<std::string> synthesized_;
	uint16_t cur_layer_ = 0;
	std::vector<Group> groups_;
	std::vector<std::shared_ptr<UniqueFd>> kept_;  // per layer, from pass 1
	UniqueFd spill_fd_;
	uint64_t spill_end_ = 0;
	uint64_t done_uncompressed_ = 0;
};

}  // namespace

std::string normalize_path(const std::string& raw, const std::string& what) {
	if (raw.size() > kMaxPath) unsafe(what, raw.substr(0, 64) + "...", "path name too long");
	// The root itself, as `umoci insert DIR /` names it: it reaches nothing outside.
	if (!raw.empty() && raw.find_first_not_of('/') == std::string::npos) return "";
	if (!raw.empty() && raw[0] == '/') unsafe(what, raw, "absolute path");
	std::string out;
	size_t i = 0;
	while (i <= raw.size()) {
		size_t j = raw.find('/', i);
		if (j == std::string::npos) j = raw.size();
		std::string_view c(raw.data() + i, j - i);
		if (c == "..") unsafe(what, raw, "path traversal ('..')");
		if (!c.empty() && c != ".") {
			if (!out.empty()) out += '/';
			out.append(c);
		}
		i = j + 1;
	}
	return out;
}

FlattenStats flatten(const std::vector<Layer>& layers, archive* out, const FlattenOptions& options) {
	Flattener f(layers, out, options);
	return f.run();
}

}  // namespace bencher::oci
