// estimate.cc: size planning (see estimate.hh). Deliberately generous: an
// estimate that is too small is a failed build, one that is too large costs
// nothing on the host, since the image is sparse.
#include "rootfs/estimate.hh"

#include <algorithm>

namespace bencher::rootfs {

namespace {

constexpr uint64_t kExtentsPerBlock = (kBlockSize - 12) / 12;
constexpr uint64_t kReservedInodes = 11;  // 1..10 and lost+found
constexpr uint64_t kMinBlocks = 4096;     // 16 MiB: room for a journal
constexpr uint64_t kMaxInodesPerGroup = kBlockSize * 8;

uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

bool has_super(uint64_t group) {
	if (group <= 1) return true;
	for (uint64_t base : {3, 5, 7}) {
		uint64_t g = group;
		while (g % base == 0) g /= base;
		if (g == 1) return true;
	}
	return false;
}

uint64_t dirent_size(size_t name_len) { return 8 + ((name_len + 3) & ~size_t{3}); }

}  // namespace

void Estimate::add(const Entry& e, uint64_t data_blocks, uint64_t data_regions) {
	size_t slash = e.path.find_last_of('/');
	size_t name_len = slash == std::string::npos ? e.path.size() : e.path.size() - slash - 1;
	dir_bytes += dirent_size(std::max<size_t>(name_len, 1));
	if (e.type == EntryType::hardlink) return;
	inodes++;
	switch (e.type) {
	case EntryType::regular: {
		blocks += data_blocks;
		// Runs break at 32768 blocks and at every hole; past 4 extents the
		// tree needs blocks of its own.
		uint64_t extents = data_blocks / 32768 + data_regions + 1;
		if (extents > 4) blocks += div_up(extents, kExtentsPerBlock) + 1;
		break;
	}
	case EntryType::directory:
		dirs++;
		dir_bytes += 24;  // "." and ".."
		break;
	case EntryType::symlink:
		if (e.target.size() >= 60) blocks++;
		break;
	default:
		break;
	}
	// Inline xattr space in a 256-byte inode is about 96 bytes; beyond that
	// an xattr block.
	uint64_t xattr_bytes = 0;
	for (const Xattr& x : e.xattrs) xattr_bytes += 16 + ((x.name.size() + 3) & ~size_t{3}) + ((x.value.size() + 3) & ~size_t{3});
	if (xattr_bytes > 80) blocks++;
}

void Estimate::add_created(uint64_t inodes_, uint64_t blocks_) {
	inodes += inodes_;
	blocks += blocks_;
	dir_bytes += inodes_ * dirent_size(16);
}

uint64_t Estimate::content_bytes() const {
	// Linear directories: entries never span blocks, so allow for slack.
	uint64_t dir_blocks = dirs + div_up(dir_bytes * 5 / 4, kBlockSize - 12);
	return (blocks + dir_blocks) * kBlockSize;
}

Estimate estimate_stream(const StreamSize& size) {
	Estimate e;
	e.inodes = size.entries;
	e.blocks = blocks_for(size.bytes) + size.entries;
	e.dirs = size.entries / 8 + 1;
	e.dir_bytes = size.entries * dirent_size(24) + e.dirs * 24;
	return e;
}

uint64_t journal_blocks_for(uint64_t blocks) {
	if (blocks < 2048) return 0;
	if (blocks < 32768) return 1024;
	if (blocks < 256 * 1024) return 4096;
	if (blocks < 512 * 1024) return 8192;
	return 16384;
}

uint64_t overhead_blocks(uint64_t blocks, uint64_t inodes) {
	uint64_t groups = std::max<uint64_t>(1, div_up(blocks, kBlocksPerGroup));
	uint64_t ipg = div_up(div_up(inodes, groups), kBlockSize / kInodeSize) * (kBlockSize / kInodeSize);
	uint64_t gdt = div_up(groups * 64, kBlockSize);
	uint64_t backups = 0;
	for (uint64_t g = 0; g < groups; g++)
		if (has_super(g)) backups++;
	return backups * (1 + gdt) + groups * (2 + ipg * kInodeSize / kBlockSize);
}

namespace {

uint64_t auto_inodes(const Estimate& est, uint64_t blocks) {
	uint64_t need = (est.inodes + kReservedInodes + 16) * 5 / 4 + 1024;
	return std::max(blocks * kBlockSize / kInodeRatio, need);
}

// Smallest block count holding `used` blocks plus metadata and journal.
uint64_t fit(uint64_t used, uint64_t inodes_needed, const Estimate& est, bool journal, uint64_t fixed_inodes) {
	uint64_t blocks = std::max(kMinBlocks, used);
	for (int i = 0; i < 20; i++) {
		uint64_t inodes = fixed_inodes ? fixed_inodes : std::max(inodes_needed, auto_inodes(est, blocks));
		// A group holds at most kMaxInodesPerGroup inodes.
		uint64_t min_groups = div_up(inodes, kMaxInodesPerGroup);
		uint64_t need = used + overhead_blocks(blocks, inodes) + (journal ? journal_blocks_for(blocks) : 0);
		need += need / 64 + 256;  // slack for allocation edges
		need = std::max({need, kMinBlocks, (min_groups - 1) * kBlocksPerGroup + 1024});
		need = div_up(need, 256) * 256;  // whole MiB
		if (need <= blocks) return blocks;
		blocks = need;
	}
	return blocks;
}

}  // namespace

Geometry plan(const Estimate& est, const SizeRequest& req, bool known) {
	Geometry g;
	if (req.size) {
		g.blocks = req.size / kBlockSize;
		g.inodes = req.inodes ? req.inodes : g.blocks * kBlockSize / kInodeRatio;
		if (!req.inodes && known) g.inodes = std::max(g.inodes, est.inodes + kReservedInodes + 64);
	} else {
		uint64_t used = blocks_for(est.content_bytes());
		uint64_t headroom = req.headroom_percent ? est.content_bytes() / 100 * req.headroom_percent : req.headroom;
		g.blocks = fit(used + blocks_for(headroom), est.inodes + kReservedInodes, est, req.journal, req.inodes);
		g.inodes = req.inodes ? req.inodes : auto_inodes(est, g.blocks);
	}
	uint64_t groups = std::max<uint64_t>(1, div_up(g.blocks, kBlocksPerGroup));
	g.inodes = std::min(g.inodes, groups * kMaxInodesPerGroup);
	g.inodes = std::min<uint64_t>(g.inodes, UINT32_MAX - kMaxInodesPerGroup);
	g.inodes = std::max<uint64_t>(g.inodes, 64);
	g.journal_blocks = req.journal ? journal_blocks_for(g.blocks) : 0;
	return g;
}

uint64_t minimum_size(const Estimate& est, bool journal) {
	uint64_t used = blocks_for(est.content_bytes());
	return fit(used, est.inodes + kReservedInodes, est, journal, 0) * kBlockSize;
}

}  // namespace bencher::rootfs
