// Unit tests for lib/oci/flatten: the OCI changeset rules (whiteouts, opaque
// directories, replacement, directory attributes, hard links across layers)
// and every kind of hostile layer, on tar layers built in memory.
#include "oci/flatten.hh"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "common/error.hh"
#include "oci/blob.hh"
#include "test_util.hh"

using namespace bencher;
using namespace bencher::oci;
using namespace bencher::oci::test;

namespace {

struct E {
	E(std::string p, char t = 'f', std::string d = "", int m = 0, int u = 0)
	    : path(std::move(p)), type(t), data(std::move(d)), mode(m), uid(u) {}
	std::string path;
	char type;         // f file, d dir, l symlink, h hard link, c char device
	std::string data;  // file content, or link target
	int mode;
	int uid;
};

std::string make_tar(const std::vector<E>& entries, const char* filter = nullptr) {
	std::string out;
	archive* a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (filter && std::strcmp(filter, "gzip") == 0) archive_write_add_filter_gzip(a);
	if (filter && std::strcmp(filter, "zstd") == 0) archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	open_to_string(a, &out);
	for (const auto& e : entries) {
		archive_entry* ae = archive_entry_new();
		archive_entry_set_pathname(ae, e.path.c_str());
		archive_entry_set_uid(ae, e.uid);
		archive_entry_set_mtime(ae, 1700000000, 0);
		switch (e.type) {
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e.mode ? e.mode : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e.data.c_str());
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e.data.c_str());
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0666);
			archive_entry_set_rdevmajor(ae, 1);
			archive_entry_set_rdevminor(ae, 3);
			break;
		default:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e.mode ? e.mode : 0644);
			archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
		}
		archive_write_header(a, ae);
		if (e.type == 'f' && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	return out;
}

class StringReader : public Reader {
public:
	explicit StringReader(std::string s) : s_(std::move(s)) {}
	size_t read(void* buf, size_t len) override {
		size_t n = std::min(len, s_.size() - pos_);
		std::memcpy(buf, s_.data() + pos_, n);
		pos_ += n;
		return n;
	}

private:
	std::string s_;
	size_t pos_ = 0;
};

Layer layer_of(const std::string& blob, std::string digest = "") {
	Layer l;
	l.digest = digest.empty() ? digest_of(blob) : digest;
	l.size = static_cast<int64_t>(blob.size());
	l.what = "layer " + short_digest(l.digest);
	l.open = [blob] { return std::make_unique<StringReader>(blob); };
	return l;
}

// The flattened stream as ordered lines: "path f content", "path d 0755",
// "path l -> target", "path h => target", "path c".
std::vector<std::string> run(const std::vector<std::vector<E>>& layers, FlattenOptions opt = {}) {
	std::vector<Layer> ls;
	for (const auto& l : layers) ls.push_back(layer_of(make_tar(l)));
	std::string out;
	archive* w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	open_to_string(w, &out);
	try {
		flatten(ls, w, opt);
	} catch (...) {
		// Closed, not archive_write_fail()ed: that leaks libarchive's
		// buffers, which only an exiting oci-unpack can afford (ASan).
		archive_write_close(w);
		archive_write_free(w);
		throw;
	}
	archive_write_close(w);
	archive_write_free(w);

	std::vector<std::string> lines;
	archive* r = archive_read_new();
	archive_read_support_format_tar(r);
	archive_read_open_memory(r, out.data(), out.size());
	archive_entry* e;
	while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
		std::string line = archive_entry_pathname(e);
		if (line.size() > 1 && line.back() == '/') line.pop_back();  // the tar writer marks dirs
		if (archive_entry_hardlink(e)) {
			line += std::string(" h => ") + archive_entry_hardlink(e);
		} else if (archive_entry_filetype(e) == AE_IFDIR) {
			line += strprintf(" d %04o uid=%d", archive_entry_perm(e), (int)archive_entry_uid(e));
		} else if (archive_entry_filetype(e) == AE_IFLNK) {
			line += std::string(" l -> ") + archive_entry_symlink(e);
		} else if (archive_entry_filetype(e) == AE_IFCHR) {
			line += " c";
		} else {
			std::string data(archive_entry_size(e), '\0');
			archive_read_data(r, data.data(), data.size());
			line += " f " + data;
		}
		lines.push_back(line);
	}
	archive_read_free(r);
	return lines;
}

using V = std::vector<std::string>;

}  // namespace

TEST(Normalize, Paths) {
	EXPECT_EQ(normalize_path("./a//b/", "l"), "a/b");
	EXPECT_EQ(normalize_path("a/./b", "l"), "a/b");
	EXPECT_EQ(normalize_path("./", "l"), "");
	EXPECT_EQ(normalize_path("/", "l"), "");
	EXPECT_EQ(normalize_path("//", "l"), "");
	EXPECT_EQ(exit_code_of([] { normalize_path("/a", "l"); }), kExitUnsafe);
	EXPECT_EQ(exit_code_of([] { normalize_path("/etc/passwd", "l"); }), kExitUnsafe);
	EXPECT_EQ(exit_code_of([] { normalize_path("a/../../b", "l"); }), kExitUnsafe);
	EXPECT_EQ(exit_code_of([] { normalize_path("..", "l"); }), kExitUnsafe);
	EXPECT_EQ(exit_code_of([] { normalize_path(std::string(5000, 'a'), "l"); }), kExitUnsafe);
}

TEST(Flatten, SingleLayerPassesThrough) {
	V got = run({{{"./a", 'd'}, {"./a/f", 'f', "x"}, {"./a/s", 'l', "f"}, {"./a/null", 'c'}}});
	EXPECT_EQ(got, (V{"a d 0755 uid=0", "a/f f x", "a/s l -> f", "a/null c"}));
}

TEST(Flatten, LaterLayerReplacesFile) {
	V got = run({{{"f", 'f', "old"}}, {{"f", 'f', "new"}}});
	EXPECT_EQ(got, (V{"f f new"}));
}

TEST(Flatten, WhiteoutRemovesFileAndSubtree) {
	V got = run({{{"a", 'd'}, {"a/x", 'f', "1"}, {"b", 'f', "2"}, {"c", 'f', "3"}},
		     {{".wh.a", 'f'}, {".wh.b", 'f'}, {".wh.nothing", 'f'}}});
	EXPECT_EQ(got, (V{"c f 3"}));
}

TEST(Flatten, WhiteoutThenRecreateInSameLayer) {
	V got = run({{{"a", 'd'}, {"a/old", 'f', "1"}}, {{"a", 'd'}, {"a/new", 'f', "2"}, {".wh.a", 'f'}}});
	EXPECT_EQ(got, (V{"a d 0755 uid=0", "a/new f 2"}));
}

TEST(Flatten, OpaqueDirectoryHidesLowerChildrenOnly) {
	V got = run({{{"d", 'd'}, {"d/old", 'f', "1"}, {"d/sub", 'd'}, {"d/sub/x", 'f', "2"}},
		     {{"d", 'd'}, {"d/.wh..wh..opq", 'f'}, {"d/new", 'f', "3"}}});
	EXPECT_EQ(got, (V{"d d 0755 uid=0", "d/new f 3"}));
}

TEST(Flatten, FileReplacedByDirAndDirByFile) {
	V got = run({{{"x", 'f', "file"}, {"y", 'd'}, {"y/child", 'f', "c"}},
		     {{"x", 'd'}, {"x/in", 'f', "i"}, {"y", 'f', "now"}}});
	EXPECT_EQ(got, (V{"x d 0755 uid=0", "x/in f i", "y f now"}));
}

TEST(Flatten, DirectoryKeepsUpperAttributesButComesFirst) {
	V got = run({{{"d", 'd', "", 0700, 1}, {"d/f", 'f', "1"}}, {{"d", 'd', "", 0751, 7}}});
	EXPECT_EQ(got, (V{"d d 0751 uid=7", "d/f f 1"}));
}

TEST(Flatten, HardLinkAcrossLayers) {
	V got = run({{{"t", 'f', "data"}}, {{"l", 'h', "t"}}});
	EXPECT_EQ(got, (V{"t f data", "l h => t"}));
}

TEST(Flatten, HardLinkStaysValidWhenTargetReplaced) {
	// Bottom layer: t with two links; an upper layer replaces t.
	V got = run({{{"t", 'f', "orig"}, {"l1", 'h', "t"}, {"l2", 'h', "t"}}, {{"t", 'f', "new"}}});
	EXPECT_EQ(got, (V{"l1 f orig", "l2 h => l1", "t f new"}));
}

TEST(Flatten, HardLinkInUpperLayerToReplacedTarget) {
	V got = run({{{"t", 'f', "orig"}}, {{"l", 'h', "t"}}, {{".wh.t", 'f'}}});
	EXPECT_EQ(got, (V{"l f orig"}));
}

TEST(Flatten, HardLinkRemovedWithItsTarget) {
	V got = run({{{"t", 'f', "orig"}, {"l", 'h', "t"}}, {{".wh.t", 'f'}, {".wh.l", 'f'}}});
	EXPECT_EQ(got, V{});
}

TEST(Flatten, EmptyLayers) {
	V got = run({{}, {{"a", 'f', "1"}}, {}});
	EXPECT_EQ(got, (V{"a f 1"}));
}

TEST(Flatten, RootEntriesAndAufsMetadataDropped) {
	V got = run({{{"./", 'd'}, {"/", 'd'}, {".wh..wh.plnk", 'd'}, {"a", 'f', "1"}}});
	EXPECT_EQ(got, (V{"a f 1"}));
}

TEST(Flatten, CompressedLayers) {
	for (const char* f : {"gzip", "zstd"}) {
		std::vector<Layer> ls{layer_of(make_tar({{"a", 'f', "1"}}, f)), layer_of(make_tar({{"b", 'f', "2"}}, f))};
		archive* w = archive_write_new();
		archive_write_set_format_pax_restricted(w);
		std::string out;
		open_to_string(w, &out);
		FlattenStats st = flatten(ls, w, {});
		archive_write_close(w);
		archive_write_free(w);
		EXPECT_EQ(st.entries_out, 2u) << f;
	}
}

// Hostile layers: each is refused with the right exit code, naming the path.
struct Bad {
	const char* name;
	std::vector<std::vector<E>> layers;
	int code;
	const char* needle;
};

TEST(Flatten, HostileLayersAreRefused) {
	std::vector<Bad> cases = {
	    {"absolute", {{{"/etc/passwd", 'f', "x"}}}, kExitUnsafe, "/etc/passwd: absolute path"},
	    {"dotdot", {{{"a/../../x", 'f', "x"}}}, kExitUnsafe, "path traversal"},
	    {"whiteout dotdot", {{{"a", 'd'}}, {{"a/.wh...", 'f'}}}, kExitUnsafe, "whiteout names '..'"},
	    {"link missing", {{{"l", 'h', "nothere"}}}, kExitUnsafe, "not an earlier file"},
	    {"link abs", {{{"t", 'f'}, {"l", 'h', "/t"}}}, kExitUnsafe, "absolute path"},
	    {"link dotdot", {{{"t", 'f'}, {"l", 'h', "../t"}}}, kExitUnsafe, "path traversal"},
	    {"link to dir", {{{"d", 'd'}, {"l", 'h', "d"}}}, kExitUnsafe, "not an earlier file"},
	    {"link self", {{{"l", 'h', "l"}}}, kExitUnsafe, "hard link to itself"},
	    {"symlink escape", {{{"a", 'd'}, {"a/s", 'l', "../../etc"}}}, kExitUnsafe, "points outside the root"},
	    {"through symlink", {{{"s", 'l', "/etc"}}, {{"s/passwd", 'f', "x"}}}, kExitUnsafe, "is not a directory"},
	    {"through symlink same layer", {{{"s", 'l', "/etc"}, {"s/passwd", 'f', "x"}}}, kExitUnsafe,
	     "is not a directory"},
	    {"duplicate", {{{"a", 'f', "1"}, {"a", 'f', "2"}}}, kExitUnsafe, "duplicate entry"},
	};
	for (const auto& c : cases) {
		std::string msg;
		EXPECT_EQ(exit_code_of([&] { run(c.layers); }, &msg), c.code) << c.name << ": " << msg;
		EXPECT_NE(msg.find(c.needle), std::string::npos) << c.name << ": " << msg;
		EXPECT_NE(msg.find("layer sha256:"), std::string::npos) << c.name << ": " << msg;
	}
}

TEST(Flatten, RelativeSymlinksInsideRootAreFine) {
	V got = run({{{"a", 'd'}, {"a/b", 'd'}, {"a/b/s", 'l', "../../etc/x"}, {"abs", 'l', "/etc/x"}}});
	EXPECT_EQ(got.size(), 4u);
}

TEST(Flatten, MissingParentsAreSynthesisedOrTakenFromAbove) {
	// "x" has no entry anywhere: a 0755 dir is made up before x/f. "d" only
	// has an entry in the upper layer: it is written first, with its attributes.
	V got = run({{{"x/f", 'f', "1"}, {"d/g", 'f', "2"}}, {{"d", 'd', "", 0700, 3}}});
	EXPECT_EQ(got, (V{"x d 0755 uid=0", "x/f f 1", "d d 0700 uid=3", "d/g f 2"}));
}

std::string flatten_blobs(std::vector<Layer> ls, FlattenOptions opt = {}) {
	archive* w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	archive_write_open_filename(w, "/dev/null");
	try {
		flatten(ls, w, opt);
	} catch (...) {
		// Closed, not archive_write_fail()ed: that leaks libarchive's
		// buffers, which only an exiting oci-unpack can afford (ASan).
		archive_write_close(w);
		archive_write_free(w);
		throw;
	}
	archive_write_close(w);
	archive_write_free(w);
	return "";
}

TEST(Flatten, DigestAndSizeMismatch) {
	std::string blob = make_tar({{"a", 'f', "1"}}, "gzip");
	std::string msg;
	Layer bad = layer_of(blob, digest_of("something else"));
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({bad}); }, &msg), kExitIntegrity);
	EXPECT_NE(msg.find("digest mismatch"), std::string::npos) << msg;
	// Mismatch in an upper layer is caught in pass 1, before any output.
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({layer_of(blob), bad}); }, &msg), kExitIntegrity);
	Layer big = layer_of(blob);
	big.size += 10;
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({big}); }, &msg), kExitIntegrity);
	EXPECT_NE(msg.find("size mismatch"), std::string::npos) << msg;
	Layer small = layer_of(blob);
	small.size -= 1;
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({small}); }, &msg), kExitIntegrity);
}

TEST(Flatten, TruncatedAndCorruptCompression) {
	std::string blob = make_tar({{"a", 'f', std::string(100000, 'x')}, {"b", 'f', "y"}}, "gzip");
	std::string cut = blob.substr(0, blob.size() / 2);
	std::string msg;
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({layer_of(cut)}); }, &msg), kExitIntegrity) << msg;
	std::string junk = blob;
	for (size_t i = 20; i < junk.size() - 10; i += 7) junk[i] ^= 0x5a;
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({layer_of(junk)}); }, &msg), kExitIntegrity) << msg;
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({layer_of("not a tar at all")}); }, &msg), kExitIntegrity) << msg;
}

TEST(Flatten, DecompressionBombsAreRefused) {
	std::string blob = make_tar({{"zeros", 'f', std::string(4 << 20, '\0')}}, "gzip");
	FlattenOptions opt;
	opt.max_size = 1 << 20;
	std::string msg;
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({layer_of(blob)}, opt); }, &msg), kExitUnsafe);
	EXPECT_NE(msg.find("--max-size"), std::string::npos) << msg;
	FlattenOptions ratio;
	ratio.ratio_floor = 1 << 20;
	ratio.max_ratio = 50;
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({layer_of(blob)}, ratio); }, &msg), kExitUnsafe);
	EXPECT_NE(msg.find("decompression bomb"), std::string::npos) << msg;
	// Within limits it is fine.
	EXPECT_EQ(exit_code_of([&] { flatten_blobs({layer_of(blob)}); }), 0);
}

TEST(Flatten, TooManyEntries) {
	std::vector<E> many;
	for (int i = 0; i < 50; i++) many.push_back({"f" + std::to_string(i), 'f', "x"});
	FlattenOptions opt;
	opt.max_entries = 10;
	EXPECT_EQ(exit_code_of([&] { run({many}, opt); }), kExitUnsafe);
	EXPECT_EQ(exit_code_of([&] { run({{}, many}, opt); }), kExitUnsafe);
}

// Pass 2 reads a compressed upper layer from the copy pass 1 kept: every
// blob is opened, so decompressed, once, and the rules still hold.
TEST(Flatten, EachCompressedLayerIsDecompressedOnce) {
	for (const char* f : {"gzip", "zstd"}) {
		std::vector<std::vector<E>> spec = {
		    {{"a", 'd'}, {"a/x", 'f', "1"}, {"t", 'f', "target"}, {"keep", 'f', "k"}},
		    {{"a/.wh.x", 'f'}, {"l", 'h', "t"}, {"t", 'f', "new"}},
		    {{".wh.keep", 'f'}, {"a/y", 'f', "2"}}};
		std::vector<Layer> ls;
		auto opens = std::make_shared<std::vector<int>>(spec.size(), 0);
		for (size_t i = 0; i < spec.size(); i++) {
			Layer l = layer_of(make_tar(spec[i], f));
			auto inner = l.open;
			l.open = [inner, opens, i] {
				(*opens)[i]++;
				return inner();
			};
			ls.push_back(std::move(l));
		}
		std::string out;
		archive* w = archive_write_new();
		archive_write_set_format_pax_restricted(w);
		open_to_string(w, &out);
		FlattenStats st = flatten(ls, w, {});
		archive_write_close(w);
		archive_write_free(w);
		EXPECT_EQ(*opens, (std::vector<int>{1, 1, 1})) << f;
		// a, l (carrying the old t's data), t, a/y
		EXPECT_EQ(st.entries_out, 4u) << f;
		EXPECT_EQ(st.bytes_out, std::string("target").size() + 3 + 1) << f;
	}
}
