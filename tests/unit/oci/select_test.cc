// Unit tests for what oci-unpack reads without decompressing a layer: the
// size estimate of the flattened tree (gzip trailers, zstd frame headers,
// plain tars, streams) and the choice of an image in a layout by digest.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <map>

#include "common/error.hh"
#include "common/fd.hh"
#include "oci/estimate.hh"
#include "oci/source.hh"
#include "test_util.hh"

using namespace bencher;
using namespace bencher::oci;
using namespace bencher::oci::test;

namespace {

// `n` bytes of tar (one file of n - 1536 bytes), compressed by `filter`.
std::string tar_blob(size_t n, const char* filter) {
	std::string out;
	archive* a = archive_write_new();
	archive_write_set_format_ustar(a);
	if (std::strcmp(filter, "gzip") == 0) archive_write_add_filter_gzip(a);
	if (std::strcmp(filter, "zstd") == 0) archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	open_to_string(a, &out);
	archive_entry* e = archive_entry_new();
	archive_entry_set_pathname(e, "f");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	std::string data(n - 1536, 'x');
	archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
	archive_write_header(a, e);
	archive_write_data(a, data.data(), data.size());
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return out;
}

// A zstd frame that declares its content size (as `zstd FILE` writes;
// libarchive's streaming writer does not): single segment, raw blocks.
std::string zstd_frame(const std::string& content) {
	std::string f = "\x28\xb5\x2f\xfd";
	f += '\xa0';  // 4-byte content size, single segment
	for (int i = 0; i < 4; i++) f += static_cast<char>(content.size() >> (8 * i));
	for (size_t off = 0; off < content.size(); off += 65536) {
		size_t n = std::min<size_t>(65536, content.size() - off);
		uint32_t hdr = static_cast<uint32_t>(n << 3) | (off + n == content.size() ? 1 : 0);
		for (int i = 0; i < 3; i++) f += static_cast<char>(hdr >> (8 * i));
		f += content.substr(off, n);
	}
	return f;
}

// A layer over a file, so the estimate can look at its ends.
Layer file_layer(const TempDir& dir, const std::string& name, const std::string& blob) {
	std::string path = dir.path() + "/" + name;
	UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write_all(fd.get(), blob, path);
	Layer l;
	l.digest = digest_of(blob);
	l.size = static_cast<int64_t>(blob.size());
	l.what = "layer " + name;
	l.open = [path, n = blob.size()] {
		auto f = std::make_shared<UniqueFd>(open_file(path, O_RDONLY));
		return std::make_unique<FdRangeReader>(f, 0, n, path);
	};
	return l;
}

class StreamReader : public Reader {
public:
	size_t read(void*, size_t) override { return 0; }
};

}  // namespace

TEST(Estimate, LayerBytesWithoutDecompressing) {
	TempDir dir;
	for (size_t n : {size_t{4096}, size_t{1} << 20}) {
		EXPECT_EQ(estimate_layer_bytes(file_layer(dir, "gz", tar_blob(n, "gzip"))), n) << n;
		EXPECT_EQ(estimate_layer_bytes(file_layer(dir, "zst", zstd_frame(tar_blob(n, "none")))), n) << n;
		EXPECT_EQ(estimate_layer_bytes(file_layer(dir, "tar", tar_blob(n, "none"))), n) << n;
	}
	// A zstd frame without a content size, or one that is only the first of
	// several (its content is smaller than the blob): the guess.
	std::string zs = tar_blob(4096, "zstd");
	EXPECT_EQ(estimate_layer_bytes(file_layer(dir, "zs", zs)), zs.size() * kExpansionGuess);
	std::string two = zstd_frame(tar_blob(4096, "none")) + zstd_frame(std::string(1 << 20, 'y'));
	EXPECT_EQ(estimate_layer_bytes(file_layer(dir, "two", two)), two.size() * kExpansionGuess);
	// A blob that cannot be looked into: its size times the guess.
	Layer stream = file_layer(dir, "s", tar_blob(4096, "gzip"));
	stream.open = [] { return std::make_unique<StreamReader>(); };
	EXPECT_EQ(estimate_layer_bytes(stream), static_cast<uint64_t>(stream.size) * kExpansionGuess);
	// Not a format oci-unpack reads: the guess too.
	std::string junk(1000, 'j');
	EXPECT_EQ(estimate_layer_bytes(file_layer(dir, "j", junk)), 1000 * kExpansionGuess);
}

TEST(Estimate, GzipTrailerThatWrapped) {
	// ISIZE is the size modulo 2^32: a trailer smaller than the blob itself
	// can only have wrapped.
	TempDir dir;
	std::string blob = tar_blob(1 << 20, "gzip");
	blob.resize(blob.size() + 5000, '\0');  // make the blob larger than ISIZE allows
	uint32_t isize = 1000;
	std::memcpy(blob.data() + blob.size() - 4, &isize, 4);
	EXPECT_EQ(estimate_layer_bytes(file_layer(dir, "w", blob)), (uint64_t{1} << 32) + 1000);
}

TEST(Estimate, TreeSumsLayersAndGuessesEntries) {
	TempDir dir;
	std::vector<Layer> ls{file_layer(dir, "a", tar_blob(1 << 20, "gzip")), file_layer(dir, "b", tar_blob(8192, "none"))};
	TreeEstimate e = estimate_tree(ls);
	EXPECT_EQ(e.bytes, (uint64_t{1} << 20) + 8192);
	EXPECT_EQ(e.entries, (uint64_t{1} << 20) / kBytesPerEntryGuess + 1 + 8192 / kBytesPerEntryGuess + 1);
}

namespace {

std::string put_blob(const std::string& dir, const std::string& content) {
	std::string d = digest_of(content);
	std::string path = dir + "/blobs/sha256/" + d.substr(7);
	UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write_all(fd.get(), content, path);
	return d;
}

// A layout with one tag whose index names `tagged`; `other` is only a blob.
struct Layout {
	TempDir dir;
	std::string tagged, other;
	Layout() {
		::mkdir((dir.path() + "/blobs").c_str(), 0755);
		::mkdir((dir.path() + "/blobs/sha256").c_str(), 0755);
		tagged = image("[\"tagged\"]");
		other = image("[\"other\"]");
		std::string index = R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
				    tagged + R"(","size":)" + std::to_string(size_of(tagged)) +
				    R"(,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]})";
		put(dir.path() + "/index.json", index);
		put(dir.path() + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
	}
	std::string image(const std::string& cmd) {
		std::string cfg = R"({"architecture":"amd64","os":"linux","config":{"Cmd":)" + cmd + R"(},"rootfs":{"diff_ids":[]}})";
		std::string c = put_blob(dir.path(), cfg);
		std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
				c + R"(","size":)" + std::to_string(cfg.size()) + R"(},"layers":[]})";
		std::string d = put_blob(dir.path(), m);
		sizes[d] = m.size();
		return d;
	}
	size_t size_of(const std::string& d) { return sizes[d]; }
	static void put(const std::string& path, const std::string& s) {
		UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		write_all(fd.get(), s, path);
	}
	std::map<std::string, size_t> sizes;
};

std::string cmd_of(std::unique_ptr<Source> s) {
	ResolvedImage img = s->resolve(host_platform());
	return img.config.cmd ? img.config.cmd->front() : "";
}

}  // namespace

TEST(Select, ByDigestInALayout) {
	Layout l;
	EXPECT_EQ(cmd_of(open_local(l.dir.path(), "latest", "")), "tagged");
	EXPECT_EQ(cmd_of(open_local(l.dir.path(), "", l.tagged)), "tagged");
	// Not in index.json, but a manifest the layout holds (as a platform's
	// manifest under an index is).
	EXPECT_EQ(cmd_of(open_local(l.dir.path(), "", l.other)), "other");
	std::string msg;
	std::string none = "sha256:" + std::string(64, '0');
	EXPECT_EQ(exit_code_of([&] { cmd_of(open_local(l.dir.path(), "", none)); }, &msg), kExitNotFound);
	EXPECT_NE(msg.find("no manifest " + none), std::string::npos) << msg;
}
