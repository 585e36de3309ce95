// Unit tests for lib/runner/cache: the rootfs key the shell runner used to
// compute (so old caches stay valid) and the init-digest memo.
#include "runner/cache.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hh"
#include "common/fd.hh"

using namespace bencher::runner;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST(RunnerCache, KeyAsTheShellRunnerComputedIt) {
	// printf '%s\n' sha256:abc 0123 auto 0.1 | sha256sum | cut -c1-32
	EXPECT_EQ("f4957214e8220d5928af8c82fc848e8c", rootfs_key({"sha256:abc", "0123", "", "0.1"}));
	EXPECT_EQ(rootfs_key({"sha256:abc", "0123", "auto", "0.1"}), rootfs_key({"sha256:abc", "0123", "", "0.1"}));
	EXPECT_NE(rootfs_key({"sha256:abc", "0123", "128M", "0.1"}), rootfs_key({"sha256:abc", "0123", "", "0.1"}));
	EXPECT_NE(rootfs_key({"sha256:abc", "0124", "", "0.1"}), rootfs_key({"sha256:abc", "0123", "", "0.1"}));
	EXPECT_EQ(32u, rootfs_key({"", "", "", ""}).size());
}

TEST(RunnerCache, DigestMemoIsKeptAndFollowsTheFile) {
	bencher::TempDir dir;
	std::string init = dir.path() + "/init", memo = dir.path() + "/memo/init-digest";
	write(init, "abc");
	const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	EXPECT_EQ(abc, file_digest_memo(init, memo));
	// The memo answers now, not the file: prove it by planting another value.
	std::string planted(64, 'f');
	bool found = false;
	for (const auto& e : std::filesystem::directory_iterator(memo)) {
		write(e.path(), planted + "\n");
		found = true;
	}
	ASSERT_TRUE(found);
	EXPECT_EQ(planted, file_digest_memo(init, memo));
	// A new file (other size and time) is hashed afresh.
	write(init, "abcd");
	EXPECT_EQ("88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589", file_digest_memo(init, memo));
}

TEST(RunnerCache, DigestMemoIgnoresGarbageAndAnUnwritableCache) {
	bencher::TempDir dir;
	std::string init = dir.path() + "/init";
	write(init, "abc");
	const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	// A memo directory that cannot be made: a file is in the way.
	write(dir.path() + "/blocked", "");
	EXPECT_EQ(abc, file_digest_memo(init, dir.path() + "/blocked/init-digest"));
	std::string memo = dir.path() + "/memo";
	EXPECT_EQ(abc, file_digest_memo(init, memo));
	for (const auto& e : std::filesystem::directory_iterator(memo)) write(e.path(), "not a digest\n");
	EXPECT_EQ(abc, file_digest_memo(init, memo));
	EXPECT_THROW(file_digest_memo(dir.path() + "/missing", memo), bencher::Error);
}
