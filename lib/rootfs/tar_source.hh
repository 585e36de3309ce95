// tar_source.hh: reads a tar stream (plain or compressed) with libarchive,
// once and in order, handing each entry and its data to a consumer. Also the
// pre-scan that sizes the image: headers only, data skipped (seeked over in
// a plain tar file), optionally copying a pipe to a spool file on the way.
#pragma once

#include <memory>
#include <string>

#include "rootfs/entry.hh"
#include "rootfs/estimate.hh"

namespace bencher::rootfs {

class TarReader {
public:
	// Reads from fd (not owned). `name` is for messages ("stdin", a path).
	// With spool_fd >= 0 every byte read is also appended there.
	TarReader(int fd, std::string name, int spool_fd = -1);
	~TarReader();
	TarReader(const TarReader&) = delete;
	TarReader& operator=(const TarReader&) = delete;

	// The next entry, validated into `e`; false at the end of the archive.
	// Unread data of the previous entry is skipped.
	bool next(Entry& e);
	// The current entry's data (regular files).
	DataReader& data();
	// Blocks and data regions the current entry's data touches.
	uint64_t data_blocks() const { return data_blocks_; }
	uint64_t data_regions() const { return data_regions_; }

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
	uint64_t data_blocks_ = 0;
	uint64_t data_regions_ = 0;
};

// Counts the rest of the archive into `est` (headers only).
void scan_rest(TarReader& r, Estimate& est);

}  // namespace bencher::rootfs
