// estimate.cc: the flattened tree's size from the layer blobs' sizes, gzip
// trailers and zstd frame headers (see estimate.hh).
#include "oci/estimate.hh"

#include <algorithm>
#include <cstring>

namespace bencher::oci {

namespace {

constexpr uint64_t k4G = uint64_t{1} << 32;

uint64_t le(const unsigned char* p, size_t n) {
	uint64_t v = 0;
	for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
	return v;
}

// gzip (RFC 1952): ISIZE, the last 4 bytes, is the input size modulo 2^32.
// Deflate never shrinks data to less than about 1/1032, nor grows it by more
// than a few bytes per 16K: past either bound ISIZE has wrapped.
uint64_t gzip_size(Reader& r, uint64_t packed) {
	unsigned char t[4];
	if (!r.read_at(t, sizeof t, packed - 4)) return packed * kExpansionGuess;
	uint64_t u = le(t, 4);
	while (u + u / 1000 + 1024 < packed) u += k4G;
	// A layer this large may well have wrapped more than once.
	if (packed * kExpansionGuess >= k4G) u = std::max(u, packed * kExpansionGuess);
	return u;
}

// zstd (RFC 8878, 3.1.1.1): the first frame's header may carry its content
// size. A layer of several frames (zstd:chunked) shows a first frame
// smaller than the blob: the guess is used then.
uint64_t zstd_size(const unsigned char* h, uint64_t packed) {
	unsigned fhd = h[4];
	bool single = fhd >> 5 & 1;
	static const size_t did_len[] = {0, 1, 2, 4};
	static const size_t fcs_len[] = {0, 2, 4, 8};
	size_t fcs_n = (fhd >> 6) == 0 ? (single ? 1 : 0) : fcs_len[fhd >> 6];
	if (fcs_n == 0) return packed * kExpansionGuess;
	const unsigned char* p = h + 5 + (single ? 0 : 1) + did_len[fhd & 3];
	uint64_t u = le(p, fcs_n) + (fcs_n == 2 ? 256 : 0);
	return u + 1024 < packed ? packed * kExpansionGuess : u;
}

}  // namespace

uint64_t estimate_layer_bytes(const Layer& layer) {
	if (layer.size <= 0) return 0;
	uint64_t packed = static_cast<uint64_t>(layer.size);
	std::unique_ptr<Reader> r = layer.open();
	unsigned char h[512] = {};  // a tar header; longer than any zstd frame header
	if (!r->read_at(h, std::min<uint64_t>(sizeof h, packed), 0)) return packed * kExpansionGuess;
	if (packed >= 18 && h[0] == 0x1f && h[1] == 0x8b) return gzip_size(*r, packed);
	if (packed >= 18 && le(h, 4) == 0xfd2fb528) return zstd_size(h, packed);
	if (packed >= 512 && std::memcmp(h + 257, "ustar", 5) == 0) return packed;
	return packed * kExpansionGuess;
}

TreeEstimate estimate_tree(const std::vector<Layer>& layers) {
	TreeEstimate e;
	for (const Layer& l : layers) {
		uint64_t b = estimate_layer_bytes(l);
		e.bytes += b;
		e.entries += b / kBytesPerEntryGuess + 1;
	}
	return e;
}

}  // namespace bencher::oci
