// source.cc: local image sources (see source.hh).
#include "oci/source.hh"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>

#include "common/error.hh"
#include "common/path.hh"
#include "common/log.hh"

namespace bencher::oci {

std::string FileTree::read(const std::string& rel, size_t max) {
	auto r = open(rel);
	std::string out;
	char buf[65536];
	for (;;) {
		size_t n = r->read(buf, sizeof buf);
		if (n == 0) return out;
		if (out.size() + n > max) fail(strprintf("%s: larger than %zu bytes", rel.c_str(), max), kExitUnsafe);
		out.append(buf, n);
	}
}

namespace {

class DirTree : public FileTree {
public:
	explicit DirTree(std::string dir) : dir_(std::move(dir)) {
		dirfd_ = open_file(dir_, O_RDONLY | O_DIRECTORY);
	}
	bool exists(const std::string& rel) override { return size(rel) >= 0; }
	int64_t size(const std::string& rel) override {
		UniqueFd fd = try_open(rel);
		if (!fd) return -1;
		struct stat st {};
		if (fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return -1;
		return st.st_size;
	}
	std::unique_ptr<Reader> open(const std::string& rel) override {
		UniqueFd fd = try_open(rel);
		struct stat st {};
		if (!fd || fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode))
			fail(dir_ + "/" + rel + ": missing or not a regular file", kExitNotFound);
		auto shared = std::make_shared<UniqueFd>(std::move(fd));
		return std::make_unique<FdRangeReader>(shared, 0, st.st_size, dir_ + "/" + rel);
	}

private:
	// Opens a path inside the directory only: no "..", no symlink leaving it.
	UniqueFd try_open(const std::string& rel) {
		std::string p = normalize_path(rel, dir_);
		struct open_how how {};
		how.flags = O_RDONLY | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		long fd = syscall(SYS_openat2, dirfd_.get(), p.c_str(), &how, sizeof how);
		if (fd < 0 && errno == ENOSYS) fd = ::openat(dirfd_.get(), p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		return UniqueFd(fd < 0 ? -1 : static_cast<int>(fd));
	}

	std::string dir_;
	UniqueFd dirfd_;
};

// A tarball's members: regular files by offset (uncompressed tarballs) or
// copied out (compressed ones); symlinks between members are followed.
class TarTree : public FileTree {
public:
	explicit TarTree(std::string file) : file_(std::move(file)) {
		fd_ = std::make_shared<UniqueFd>(open_file(file_, O_RDONLY));
		archive* a = archive_read_new();
		if (a == nullptr) fail("out of memory");
		ScopeGuard free_a([&] { archive_read_free(a); });
		archive_read_support_format_tar(a);
		archive_read_support_format_gnutar(a);
		archive_read_support_filter_gzip(a);
		archive_read_support_filter_zstd(a);
		archive_read_support_filter_xz(a);
		archive_read_support_filter_bzip2(a);
		if (archive_read_open_fd(a, fd_->get(), 65536) != ARCHIVE_OK) bad(a);
		archive_entry* e;
		int r;
		size_t n = 0;
		while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
			if (++n > 1000000) fail(file_ + ": too many members", kExitUnsafe);
			const char* name = archive_entry_pathname(e);
			if (name == nullptr) continue;
			std::string p;
			try {
				p = normalize_path(name, file_);
			} catch (const Error&) {
				continue;  // never looked up: a layout names blobs by digest
			}
			bool compressed = archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE;
			if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e)) {
				links_[p] = archive_entry_symlink(e);
			} else if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e)) {
				Member m;
				m.size = archive_entry_size(e);
				if (!compressed) {
					m.offset = archive_filter_bytes(a, 0);
				} else {
					extract(a, m, n);
				}
				files_[p] = m;
			} else if (archive_entry_hardlink(e)) {
				links_[p] = "/" + std::string(archive_entry_hardlink(e));
			}
		}
		if (r != ARCHIVE_EOF) bad(a);
	}

	bool exists(const std::string& rel) override { return find(rel) != nullptr; }
	int64_t size(const std::string& rel) override {
		const Member* m = find(rel);
		return m ? m->size : -1;
	}
	std::unique_ptr<Reader> open(const std::string& rel) override {
		const Member* m = find(rel);
		if (!m) fail(file_ + ": " + rel + ": no such member", kExitNotFound);
		auto fd = m->fd ? m->fd : fd_;
		return std::make_unique<FdRangeReader>(fd, m->offset, m->size, file_ + ": " + rel);
	}

private:
	struct Member {
		off_t offset = 0;
		int64_t size = 0;
		std::shared_ptr<UniqueFd> fd;  // set when copied out
	};

	[[noreturn]] void bad(archive* a) {
		fail(file_ + ": " + (archive_error_string(a) ? archive_error_string(a) : "not a tar archive"), kExitIntegrity);
	}

	void extract(archive* a, Member& m, size_t n) {
		m.fd = std::make_shared<UniqueFd>(anonymous_temp_file());
		int fd = m.fd->get();
		char buf[65536];
		la_ssize_t r;
		while ((r = archive_read_data(a, buf, sizeof buf)) > 0) write_all(fd, buf, r, "write a temporary file");
		if (r < 0) bad(a);
		(void)n;
	}

	const Member* find(const std::string& rel) {
		std::string p = normalize_path(rel, file_);
		for (int hops = 0; hops < 8; hops++) {
			auto f = files_.find(p);
			if (f != files_.end()) return &f->second;
			auto l = links_.find(p);
			if (l == links_.end()) return nullptr;
			std::string t = l->second;
			if (!t.empty() && t[0] == '/') {
				t = t.substr(1);
			} else {
				size_t slash = p.rfind('/');
				t = (slash == std::string::npos ? "" : p.substr(0, slash + 1)) + t;
			}
			// Resolve ".." lexically, staying inside the archive.
			std::string out;
			for (std::string_view c : path_components(t)) {
				if (c == "..") {
					if (out.empty()) return nullptr;
					size_t s = out.rfind('/');
					out = s == std::string::npos ? "" : out.substr(0, s);
				} else {
					out += (out.empty() ? "" : "/") + std::string(c);
				}
			}
			p = out;
		}
		return nullptr;
	}

	std::string file_;
	std::shared_ptr<UniqueFd> fd_;
	std::map<std::string, Member> files_;
	std::map<std::string, std::string> links_;
};

std::string hex_of(const std::string& digest) { return digest.substr(7); }

class TreeStore : public ManifestStore {
public:
	explicit TreeStore(FileTree& tree) : tree_(tree) {}
	std::string fetch_manifest(const Descriptor& d) override {
		return read_verified(open_blob(d), d.digest, d.size, kMaxManifestBytes, "manifest " + d.digest);
	}
	std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
		check_digest_syntax(d.digest, "blob");
		std::string rel = "blobs/sha256/" + hex_of(d.digest);
		if (!tree_.exists(rel)) fail("blob " + d.digest + ": missing from the image", kExitNotFound);
		return tree_.open(rel);
	}

private:
	FileTree& tree_;
};

class OciLayoutSource : public Source {
public:
	OciLayoutSource(std::unique_ptr<FileTree> tree, std::string name, std::string tag, std::string digest)
	    : tree_(std::move(tree)), store_(*tree_), name_(std::move(name)), tag_(std::move(tag)),
	      digest_(std::move(digest)) {}

	ResolvedImage resolve(const Platform& want) override {
		std::string text = tree_->read("index.json", kMaxManifestBytes);
		Manifest index = parse_manifest(text, name_ + ": index.json");
		if (!index.is_index) fail(name_ + ": index.json is not an image index");
		Descriptor root = digest_.empty() ? by_tag(index) : by_digest(index);
		std::string bytes = store_.fetch_manifest(root);
		return resolve_from(store_, std::move(bytes), root.digest, want, name_);
	}

private:
	// A digest need not be in index.json: the manifest of one platform of
	// an index is a blob of the layout as well.
	Descriptor by_digest(const Manifest& index) {
		for (const auto& d : index.manifests)
			if (d.digest == digest_) return d;
		if (!tree_->exists("blobs/sha256/" + hex_of(digest_)))
			fail(name_ + ": no manifest " + digest_ + " in the image", kExitNotFound);
		Descriptor root;
		root.digest = digest_;
		return root;
	}

	Descriptor by_tag(const Manifest& index) {
		std::vector<const Descriptor*> hits;
		std::string tags;
		for (const auto& d : index.manifests) {
			if (!d.ref_name.empty()) tags += (tags.empty() ? "" : ", ") + d.ref_name;
			if (tag_.empty() || d.ref_name == tag_) hits.push_back(&d);
		}
		if (hits.empty())
			fail(name_ + ": no image tagged '" + tag_ + "'" + (tags.empty() ? "" : " (tags: " + tags + ")"),
			     kExitNotFound);
		if (hits.size() > 1 && tag_.empty())
			fail(name_ + ": holds several images; name one as " + name_ + ":TAG" +
				 (tags.empty() ? "" : " (tags: " + tags + ")"),
			     kExitNotFound);
		return *hits.front();
	}

	std::unique_ptr<FileTree> tree_;
	TreeStore store_;
	std::string name_, tag_, digest_;
};

class DockerSaveSource : public Source {
public:
	DockerSaveSource(std::unique_ptr<FileTree> tree, std::string name, std::string tag, std::string digest)
	    : tree_(std::move(tree)), name_(std::move(name)), tag_(std::move(tag)), digest_(std::move(digest)) {}

	ResolvedImage resolve(const Platform& want) override {
		std::string what = name_ + ": manifest.json";
		json::Limits lim;
		lim.max_bytes = kMaxManifestBytes;
		lim.max_depth = 16;
		json::Value v = json::parse(tree_->read("manifest.json", kMaxManifestBytes), what, lim);
		if (!json_is_array(v.get())) fail(what + ": expected an array");
		json::Array arr(v, what);
		json::Object o = digest_.empty() ? by_tag(arr) : by_digest(arr);
		return resolve_entry(o, what, want);
	}

private:
	// "latest", "repo:latest" and "docker.io/repo:latest" all name it.
	bool tag_matches(const std::string& t) const {
		if (t == tag_) return true;
		size_t n = tag_.size();
		return t.size() > n && t.compare(t.size() - n, n, tag_) == 0 && (t[t.size() - n - 1] == ':' || t[t.size() - n - 1] == '/');
	}

	json::Object by_tag(json::Array& arr) {
		std::optional<json::Object> pick;
		std::string tags;
		size_t hits = 0;
		for (size_t i = 0; i < arr.size(); i++) {
			json::Object o = arr.object_at(i);
			bool match = tag_.empty();
			if (o.has("RepoTags") && !json_is_null(o.value("RepoTags").get())) {
				for (const auto& t : o.strings("RepoTags")) {
					tags += (tags.empty() ? "" : ", ") + t;
					if (!tag_.empty() && tag_matches(t)) match = true;
				}
			}
			if (match) {
				hits++;
				if (!pick) pick = o;
			}
		}
		if (!pick) fail(name_ + ": no image tagged '" + tag_ + "'" + (tags.empty() ? "" : " (tags: " + tags + ")"), kExitNotFound);
		if (hits > 1) fail(name_ + ": holds several images; name one as " + name_ + ":TAG (tags: " + tags + ")", kExitNotFound);
		return *pick;
	}

	// A classic docker-save image has no manifest digest: its config's names it.
	json::Object by_digest(json::Array& arr) {
		for (size_t i = 0; i < arr.size(); i++) {
			json::Object o = arr.object_at(i);
			std::string cfg_path = o.str("Config");
			std::string d = named_digest(cfg_path);
			if (d.empty()) d = digest_of(tree_->read(cfg_path, kMaxConfigBytes));
			if (d == digest_) return o;
		}
		fail(name_ + ": no image with config " + digest_, kExitNotFound);
	}

	ResolvedImage resolve_entry(json::Object& o, const std::string& what, const Platform& want) {
		std::string cfg_path = o.str("Config");
		std::string cfg = tree_->read(cfg_path, kMaxConfigBytes);
		ResolvedImage img;
		img.config_digest = digest_of(cfg);
		std::string named = named_digest(cfg_path);
		if (!named.empty() && named != img.config_digest)
			fail("config " + named + ": digest mismatch: content hashes to " + img.config_digest, kExitIntegrity);
		img.config = parse_config(cfg, name_ + ": " + cfg_path);
		std::vector<std::string> paths = o.strings("Layers");
		if (paths.size() != img.config.diff_ids.size())
			fail(strprintf("%s: %zu layers but the config lists %zu diff_ids", what.c_str(), paths.size(),
				       img.config.diff_ids.size()));
		for (size_t i = 0; i < paths.size(); i++) {
			Layer l;
			std::string named_l = named_digest(paths[i]);
			l.digest = named_l.empty() ? img.config.diff_ids[i] : named_l;
			l.size = tree_->size(paths[i]);
			if (l.size < 0) fail("layer " + l.digest + ": " + paths[i] + " missing from the image", kExitNotFound);
			l.what = "layer " + l.digest;
			FileTree* t = tree_.get();
			std::string p = paths[i];
			l.open = [t, p] { return t->open(p); };
			img.layers.push_back(std::move(l));
		}
		if (!img.config.platform.architecture.empty() && img.config.platform.architecture != want.architecture)
			BLOG_WARN("image is for %s, not %s", img.config.platform.str().c_str(), want.str().c_str());
		return img;
	}

	// "blobs/sha256/HEX" or "HEX.json": the digest the file name promises.
	static std::string named_digest(const std::string& path) {
		std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
		if (base.size() == 69 && base.compare(64, 5, ".json") == 0) base = base.substr(0, 64);
		if (base.size() != 64) return "";
		for (char c : base)
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "";
		return "sha256:" + base;
	}

	std::unique_ptr<FileTree> tree_;
	std::string name_, tag_, digest_;
};

}  // namespace

std::unique_ptr<FileTree> open_dir_tree(const std::string& dir) { return std::make_unique<DirTree>(dir); }
std::unique_ptr<FileTree> open_tar_tree(const std::string& file) { return std::make_unique<TarTree>(file); }

std::unique_ptr<Source> open_local(const std::string& path, const std::string& tag, const std::string& digest) {
	struct stat st {};
	if (::stat(path.c_str(), &st) < 0) fail_errno(path, errno, kExitNotFound);
	std::unique_ptr<FileTree> tree = S_ISDIR(st.st_mode) ? open_dir_tree(path) : open_tar_tree(path);
	if (tree->exists("oci-layout") && tree->exists("index.json"))
		return std::make_unique<OciLayoutSource>(std::move(tree), path, tag, digest);
	if (tree->exists("manifest.json")) return std::make_unique<DockerSaveSource>(std::move(tree), path, tag, digest);
	fail(path + ": not an OCI image layout, docker-save or oci-archive image (no index.json or manifest.json)",
	     kExitNotFound);
}

}  // namespace bencher::oci
