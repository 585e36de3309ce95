// estimate.hh: how large an image's flattened tree will be, found without
// decompressing a layer, for oci-unpack --estimate: mkrootfs sizes the ext4
// image from it (--estimate-from) and writes a piped stream straight in.
#pragma once

#include <cstdint>
#include <vector>

#include "oci/flatten.hh"

namespace bencher::oci {

// Used where a layer's uncompressed size cannot be read: gzip'd root file
// systems are typically 2.5 to 3.5 times smaller than their tar.
constexpr uint64_t kExpansionGuess = 4;
// Tar bytes per entry assumed when counting entries: a distribution's root
// (8k entries in 250 MB) has about 30 KiB; a busybox image about 3 KiB.
constexpr uint64_t kBytesPerEntryGuess = 8192;

struct TreeEstimate {
	uint64_t bytes = 0;    // tar stream bytes, all layers summed (flattening only removes)
	uint64_t entries = 0;  // entries, a guess from the bytes
};

// The uncompressed tar bytes of one layer: its size when uncompressed; the
// ISIZE trailer of a gzip member or the content size in a zstd frame
// header, when the blob is local and the value is plausible; otherwise its
// size times kExpansionGuess.
uint64_t estimate_layer_bytes(const Layer& layer);

TreeEstimate estimate_tree(const std::vector<Layer>& layers);

}  // namespace bencher::oci
