// Unit tests for lib/rootfs/estimate: the automatic size must always hold
// the content (else the build fails), and follow --size/--headroom/--inodes.
#include "rootfs/estimate.hh"

#include <gtest/gtest.h>

using namespace bencher::rootfs;

namespace {
Estimate files(uint64_t count, uint64_t bytes_each) {
	Estimate est;
	Entry e;
	e.type = EntryType::regular;
	e.path = "dir/file-name-of-some-length";
	e.size = bytes_each;
	for (uint64_t i = 0; i < count; i++) est.add(e, blocks_for(bytes_each));
	return est;
}
}  // namespace

TEST(Estimate, CountsBlocksAndInodes) {
	Estimate est = files(10, 5000);
	EXPECT_EQ(est.inodes, 10u);
	EXPECT_EQ(est.blocks, 20u);
	Entry hl;
	hl.type = EntryType::hardlink;
	hl.path = "x";
	est.add(hl, 0);
	EXPECT_EQ(est.inodes, 10u);  // a hard link is a name, not an inode
	Entry sl;
	sl.type = EntryType::symlink;
	sl.path = "s";
	sl.target = std::string(100, 'x');
	est.add(sl, 0);
	EXPECT_EQ(est.blocks, 21u);  // slow symlink
}

TEST(Plan, AutomaticHoldsContentPlusHeadroom) {
	for (uint64_t n : {0ull, 1ull, 1000ull, 100000ull}) {
		Estimate est = files(n, 10000);
		SizeRequest req;
		req.headroom = 0;
		Geometry g = plan(est, req);
		uint64_t content = est.content_bytes() / kBlockSize;
		EXPECT_GE(g.blocks, content + overhead_blocks(g.blocks, g.inodes) + g.journal_blocks) << n;
		EXPECT_GE(g.inodes, est.inodes + 11) << n;
		req.headroom = 100 << 20;
		Geometry g2 = plan(est, req);
		uint64_t free_blocks = g2.blocks - content - overhead_blocks(g2.blocks, g2.inodes) - g2.journal_blocks;
		EXPECT_GE(free_blocks, (100u << 20) / kBlockSize) << n;
	}
}

TEST(Plan, ManyTinyFilesGetEnoughInodes) {
	Estimate est = files(2000000, 10);
	Geometry g = plan(est, SizeRequest{});
	EXPECT_GE(g.inodes, 2000000u);
	EXPECT_LE(g.inodes, (g.blocks + kBlocksPerGroup - 1) / kBlocksPerGroup * 32768);
}

TEST(Plan, ExplicitSizeAndInodes) {
	Estimate est = files(10, 100);
	SizeRequest req;
	req.size = 64 << 20;
	Geometry g = plan(est, req);
	EXPECT_EQ(g.blocks, (64u << 20) / kBlockSize);
	EXPECT_EQ(g.inodes, (64u << 20) / kInodeRatio);
	req.inodes = 100;
	EXPECT_EQ(plan(est, req).inodes, 100u);
	req.journal = false;
	EXPECT_EQ(plan(est, req).journal_blocks, 0u);
}

TEST(Plan, PercentHeadroom) {
	Estimate est = files(100, 1 << 20);
	SizeRequest req;
	req.headroom_percent = 100;
	Geometry g = plan(est, req);
	EXPECT_GE(g.blocks * kBlockSize, 2 * est.content_bytes());
	EXPECT_LE(minimum_size(est, true), g.blocks * kBlockSize);
}
