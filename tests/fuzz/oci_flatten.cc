// oci_flatten: fuzzes the layer flattener (lib/oci/flatten) with hostile
// layer blobs. The input is one or more layers separated by "--layer--";
// each layer's digest is computed from its bytes, so the fuzzer explores the
// tar/gzip/zstd parsing and the whiteout, link and path rules, not sha256.
// fuzz-sources: lib/oci/flatten.cc lib/oci/blob.cc lib/common/error.cc lib/common/digest.cc lib/common/fd.cc lib/common/log.cc
// fuzz-pkgs: libarchive libcrypto
#include <archive.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.hh"
#include "oci/flatten.hh"

namespace {

class StringReader : public bencher::oci::Reader {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	using namespace bencher::oci;
	std::string in(reinterpret_cast<const char*>(data), size);
	std::vector<Layer> layers;
	static const std::string sep = "--layer--";
	size_t start = 0;
	while (layers.size() < 8) {
		size_t end = in.find(sep, start);
		std::string blob = in.substr(start, end == std::string::npos ? std::string::npos : end - start);
		Layer l;
		l.digest = digest_of(blob);
		l.size = static_cast<int64_t>(blob.size());
		l.what = "layer";
		l.open = [blob] { return std::make_unique<StringReader>(blob); };
		layers.push_back(std::move(l));
		if (end == std::string::npos) break;
		start = end + sep.size();
	}
	FlattenOptions opt;
	opt.max_size = 64u << 20;
	opt.ratio_floor = 1u << 20;
	opt.max_entries = 20000;
	opt.threads = 1;
	archive* w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	archive_write_open2(
	    w, nullptr, nullptr, [](archive*, void*, const void*, size_t n) -> la_ssize_t { return static_cast<la_ssize_t>(n); },
	    nullptr, nullptr);
	try {
		flatten(layers, w, opt);
	} catch (const bencher::Error&) {
	}
	// Closed either way: archive_write_fail() would leak libarchive's
	// buffers, which oci-unpack can afford only because it exits next.
	archive_write_close(w);
	archive_write_free(w);
	return 0;
}
