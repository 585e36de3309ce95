// estimate.hh: how big an image must be. Sources count what they will hand
// the writer (a pre-scan of a tar file, a walk of a directory); plan() turns
// the counts into a file system geometry with the requested headroom.
#pragma once

#include <cstdint>

#include "rootfs/entry.hh"

namespace bencher::rootfs {

constexpr uint64_t kBlockSize = 4096;
constexpr uint64_t kBlocksPerGroup = 32768;
constexpr uint64_t kInodeSize = 256;
constexpr uint64_t kInodeRatio = 16384;  // bytes per inode by default, as mke2fs
constexpr uint64_t kMaxFileSize = (uint64_t{1} << 32) * kBlockSize - kBlockSize;  // extent-mapped limit

inline uint64_t blocks_for(uint64_t bytes) { return (bytes + kBlockSize - 1) / kBlockSize; }

// What the content needs, summed over entries.
struct Estimate {
	uint64_t inodes = 0;       // one per entry that makes an inode
	uint64_t blocks = 0;       // file data, slow symlinks, extent and xattr blocks
	uint64_t dir_bytes = 0;    // directory entry bytes
	uint64_t dirs = 0;

	// data_blocks: the blocks the file's data touches (sparse aware; the
	// source knows), ignored for everything but regular files.
	void add(const Entry& e, uint64_t data_blocks, uint64_t data_regions = 1);
	// An implicit or created directory or file (what --init adds).
	void add_created(uint64_t inodes_, uint64_t blocks_);
	uint64_t content_bytes() const;  // blocks + directory blocks, in bytes
};

// What oci-unpack --estimate says a tar stream will hold (its config
// summary's "estimate": {"bytes": N, "entries": N}).
struct StreamSize {
	uint64_t bytes = 0;    // tar stream bytes, headers included
	uint64_t entries = 0;
};

// The counts a stream of that size needs at most, if its entry count is
// not underestimated: file data is less than the tar bytes, and each entry
// may need one block more (a file's last block, a directory's first, a slow
// symlink's) and a directory entry; one in eight is taken for a directory.
Estimate estimate_stream(const StreamSize& size);

struct SizeRequest {
	uint64_t size = 0;              // bytes; 0 = automatic
	uint64_t inodes = 0;            // 0 = automatic
	uint64_t headroom = 256 << 20;  // bytes of free space to leave (automatic size)
	unsigned headroom_percent = 0;  // or a percentage of the content, if set
	bool journal = true;
};

struct Geometry {
	uint64_t blocks = 0;          // file system size in kBlockSize blocks
	uint64_t inodes = 0;
	uint64_t journal_blocks = 0;  // 0 = no journal
};

// The journal size for a file system of `blocks` (mke2fs's choice, capped
// at 64 MiB: the image is sparse, but the guest's view should stay lean).
uint64_t journal_blocks_for(uint64_t blocks);

// Metadata blocks (group descriptors, bitmaps, inode tables, superblock
// backups) of a file system with these dimensions.
uint64_t overhead_blocks(uint64_t blocks, uint64_t inodes);

// The geometry for an estimate and the user's request. With an explicit
// size the estimate only raises the inode count; with `known` false (a
// stream not scanned ahead) only the request counts.
Geometry plan(const Estimate& est, const SizeRequest& req, bool known = true);

// The smallest size in bytes that holds the content (no headroom), for the
// "needs at least" message.
uint64_t minimum_size(const Estimate& est, bool journal);

}  // namespace bencher::rootfs
