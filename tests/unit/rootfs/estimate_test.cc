// Unit tests for lib/rootfs/estimate: the automatic size must always hold
// the content (else the build fails), and follow --size/--headroom/--inodes;
// a stream sized from oci-unpack's estimate, and reading it (cli.cc).
#include "rootfs/estimate.hh"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"
#include "rootfs/cli.hh"

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

namespace {
uint64_t tar_bytes(uint64_t size) { return 512 + (size + 511) / 512 * 512; }
}  // namespace

// oci-unpack's estimate (tar bytes, entries) must hold what the stream holds
// when the entry count is right, whatever the shape: tiny files round a
// whole block up, empty directories take one, large files little more.
TEST(Estimate, FromAStreamsSizeHoldsItsContent) {
	struct Shape {
		uint64_t files, file_size, dirs, symlinks;
	};
	for (Shape sh : {Shape{100000, 1, 0, 0}, Shape{20, 50 << 20, 1, 0}, Shape{0, 0, 50000, 0},
			 Shape{5000, 30000, 900, 700}, Shape{10, 0, 10, 10000}}) {
		Estimate exact;
		uint64_t bytes = 1024, entries = 0;  // the end-of-archive blocks
		Entry e;
		e.path = "some/dir/a-name-of-twenty";
		e.type = EntryType::regular;
		e.size = sh.file_size;
		for (uint64_t i = 0; i < sh.files; i++, entries++) exact.add(e, blocks_for(e.size)), bytes += tar_bytes(e.size);
		e.type = EntryType::directory;
		for (uint64_t i = 0; i < sh.dirs; i++, entries++) exact.add(e, 0), bytes += 512;
		e.type = EntryType::symlink;
		e.target = std::string(80, 't');
		for (uint64_t i = 0; i < sh.symlinks; i++, entries++) exact.add(e, 0), bytes += 512;
		SizeRequest none;
		none.headroom = 0;
		Geometry g = plan(estimate_stream({bytes, entries}), none);
		EXPECT_GE(g.blocks * kBlockSize, minimum_size(exact, true)) << sh.files << " files of " << sh.file_size;
		EXPECT_GE(g.inodes, exact.inodes + 11) << sh.files << " files of " << sh.file_size;
	}
}

TEST(Estimate, LoadsOciUnpacksSummary) {
	bencher::TempDir dir;
	auto load = [&](const std::string& text) {
		std::string path = dir.path() + "/img.json";
		bencher::UniqueFd fd = bencher::open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		bencher::write_all(fd.get(), text, path);
		return load_stream_size(path);
	};
	StreamSize s = load(R"({"image_digest":null,"estimate":{"bytes":1234,"entries":5}})");
	EXPECT_EQ(s.bytes, 1234u);
	EXPECT_EQ(s.entries, 5u);
	for (const char* bad : {R"({"image_digest":null})", R"({"estimate":{"bytes":-1,"entries":5}})",
				R"({"estimate":{"bytes":"1","entries":5}})", "[]"}) {
		try {
			load(bad);
			ADD_FAILURE() << bad;
		} catch (const bencher::Error& e) {
			EXPECT_EQ(e.exit_code(), 1) << bad;
		}
	}
}
