// Unit tests for lib/results/runjson: run.json as bencher-plan and
// bencher-vmtest write it, and what a hostile one gets (an error naming the
// field, never a half-read config).
#include "results/runjson.hh"

#include <fcntl.h>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"
#include "../common/error_of.hh"

using namespace bencher;
using namespace bencher::results;

namespace {

class RunJson : public ::testing::Test {
protected:
	RunConfig load(const std::string& text) {
		std::string path = dir_.path() + "/run.json";
		UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		write_all(fd.get(), text, path);
		return load_run_json(path);
	}
	void expect_error(const std::string& text, const std::string& needle) {
		std::string e = test::error_of([&] { load(text); });
		EXPECT_NE(e.find(needle), std::string::npos) << text << ": " << e;
	}
	TempDir dir_{"runjson-test"};
};

}  // namespace

TEST_F(RunJson, TodaysKeys) {
	RunConfig c = load(R"({"argv": ["sh", "-c", "true"], "env": ["A=1"], "workdir": "/w", "user": "1:2",
	                      "files": ["/o"], "cgroup": "b", "max_output_bytes": 5})");
	EXPECT_EQ(c.argv.size(), 3u);
	EXPECT_EQ(c.workdir, "/w");
	EXPECT_EQ(c.max_output_bytes, 5u);
	EXPECT_TRUE(c.root_virtiofs.empty());
	EXPECT_TRUE(c.mounts.empty());
}

TEST_F(RunJson, RootAndMounts) {
	RunConfig c = load(R"({"argv": ["true"], "root": {"virtiofs": "hostroot"},
	                      "mounts": [{"tag": "m0", "path": "/mnt/vmtest", "writable": true},
	                                 {"tag": "m1", "path": "/srv"}]})");
	EXPECT_EQ(c.root_virtiofs, "hostroot");
	ASSERT_EQ(c.mounts.size(), 2u);
	EXPECT_EQ(c.mounts[0], (Mount{"m0", "/mnt/vmtest", true}));
	EXPECT_EQ(c.mounts[1], (Mount{"m1", "/srv", false}));
}

TEST_F(RunJson, HostileShares) {
	expect_error(R"({"argv": ["true"], "root": "hostroot"})", "root");
	expect_error(R"({"argv": ["true"], "root": {}})", "root.virtiofs");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": "r", "ext4": 1}})", "ext4");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": 7}})", "root.virtiofs");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": ""}})", "root.virtiofs");
	expect_error(R"({"argv": ["true"], "mounts": [{"tag": "m", "path": "/x"}]})", "only inside");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": "r"}, "mounts": {}})", "mounts");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": "r"}, "mounts": ["m"]})", "mounts[0]");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": "r"}, "mounts": [{"tag": "m"}]})", "path");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": "r"}, "mounts": [{"tag": "m", "path": "/x", "rw": true}]})",
	             "rw");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": "r"}, "mounts": [{"tag": "m", "path": "/x", "writable": 1}]})",
	             "writable");
	expect_error(R"({"argv": ["true"], "root": {"virtiofs": "r"}, "mounts": [{"tag": "m", "path": "/a/../b"}]})", "'..'");
	std::string many = R"({"argv": ["true"], "root": {"virtiofs": "r"}, "mounts": [)";
	for (int i = 0; i < 17; i++) many += (i ? "," : "") + std::string(R"({"tag": "t)") + std::to_string(i) + R"(", "path": "/m)" + std::to_string(i) + "\"}";
	expect_error(many + "]}", "more than 16");
}
