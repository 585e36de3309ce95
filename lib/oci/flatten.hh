// flatten.hh: applies an image's layers in order and writes the merged tree as
// one archive (a tar stream, or a directory via archive_write_disk), without
// an intermediate directory and without root. Whiteouts and opaque
// directories follow the OCI image spec's changeset rules.
//
// How: pass 1 reads only the headers of layers 2..N (in parallel threads) and
// records, per path, the highest layer that has an entry, a non-directory, a
// whiteout or an opaque marker there; pass 2 streams layers 1..N in order and
// writes each entry that no upper layer removes or replaces. Memory is an
// index of path names, never layer data. Each blob is decompressed once:
// pass 1 keeps the tar bytes of a compressed upper layer in an unnamed file
// in $TMPDIR, and pass 2 reads them from there. Every blob's digest is
// checked as it is read: layers 2..N in pass 1, before anything is written
// (an uncompressed one again in pass 2, which reads it a second time), the
// first layer while it streams, before the caller finishes the archive.
#pragma once

#include <archive.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "oci/blob.hh"

namespace bencher::oci {

struct Layer {
	std::string digest;  // what the raw bytes must hash to
	int64_t size = -1;   // raw size, -1 when unknown (docker-save diff_ids)
	std::string what;    // "layer sha256:..." in messages
	std::function<std::unique_ptr<Reader>()> open;  // the raw, unverified bytes
};

struct FlattenOptions {
	uint64_t max_size = uint64_t{64} << 30;    // total uncompressed tar bytes
	uint64_t max_ratio = 200;                  // uncompressed/compressed per layer ...
	uint64_t ratio_floor = uint64_t{256} << 20;  // ... once past this many bytes
	uint64_t max_entries = 4000000;            // entries over all layers
	unsigned threads = 0;                      // pass-1 threads; 0: one per core
	bool disk = false;  // `out` is archive_write_disk: per-entry failures are warnings
};

struct FlattenStats {
	uint64_t entries_in = 0;
	uint64_t entries_out = 0;
	uint64_t bytes_out = 0;  // file data written
	uint64_t spilled = 0;    // bytes kept aside for hard links whose target is replaced
};

// Writes the flattened image to `out` (opened by the caller). On success the
// caller closes `out`; on an exception it must archive_write_fail() it so no
// end-of-archive marker makes a partial stream look complete.
FlattenStats flatten(const std::vector<Layer>& layers, struct archive* out, const FlattenOptions& options);

// "./a//b/" -> "a/b"; "" for the root. Throws (exit kExitUnsafe) for
// absolute paths, ".." components and overlong names; `what` names the blob.
std::string normalize_path(const std::string& raw, const std::string& what);

}  // namespace bencher::oci
