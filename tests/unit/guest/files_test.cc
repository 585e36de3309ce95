// Unit tests for lib/guest/files: the requested files' stream as the host's
// real parser (results/protocol.hh) reads it back, with every status.
#include "guest/files.hh"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "common/fd.hh"
#include "fake_sink.hh"
#include "vsock/control.hh"

namespace guest = bencher::guest;
namespace results = bencher::results;
using results::FileStatus;

namespace {

void put(const std::string& path, const std::string& data) {
	bencher::UniqueFd fd(open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644));
	ASSERT_TRUE(fd) << path;
	bencher::write_all(fd.get(), data, path);
}

struct Got {
	FileStatus status;
	uint64_t size;
	std::string data;
};

std::vector<Got> parse(const results::RunConfig& cfg, const std::string& stream) {
	std::vector<Got> got;
	results::FileStreamParser::Sink s;
	s.begin = [&](size_t, const std::string&, FileStatus st, uint64_t size) { got.push_back({st, size, ""}); };
	s.data = [&](size_t, std::string_view d) { got.back().data += d; };
	s.end = [](size_t) {};
	results::FileStreamParser p(cfg.files, cfg.max_file_bytes, cfg.max_files_total_bytes, s);
	p.feed(stream);
	p.finish();
	return got;
}

}  // namespace

TEST(Files, EveryStatusInOrder) {
	bencher::TempDir dir("guest-files");
	const std::string d = dir.path();
	put(d + "/ok", "hello");
	put(d + "/big", std::string(100, 'x'));
	results::RunConfig cfg;
	cfg.files = {d + "/ok", d + "/missing", d, d + "/big", d + "/ok/below"};
	cfg.max_file_bytes = 50;
	guest::test::FakeSink sink;
	guest::send_files(cfg, sink);
	EXPECT_EQ(sink.events().back(), "close 5005");
	auto got = parse(cfg, sink.data(bencher::vsock::kPortFiles));
	ASSERT_EQ(got.size(), 5u);
	EXPECT_EQ(got[0].status, FileStatus::ok);
	EXPECT_EQ(got[0].data, "hello");
	EXPECT_EQ(got[1].status, FileStatus::missing);
	EXPECT_EQ(got[2].status, FileStatus::not_regular);
	EXPECT_EQ(got[2].size, 0u);
	EXPECT_EQ(got[3].status, FileStatus::too_large);
	EXPECT_EQ(got[3].size, 100u);  // the size it has, so the host can say so
	EXPECT_EQ(got[4].status, FileStatus::missing);  // ENOTDIR
}

// The total limit counts only what was sent: a file past it is too large,
// a later one that fits in what is left is still sent.
TEST(Files, TotalLimit) {
	bencher::TempDir dir("guest-files");
	const std::string d = dir.path();
	put(d + "/a", std::string(60, 'a'));
	put(d + "/b", std::string(60, 'b'));
	put(d + "/c", std::string(40, 'c'));
	results::RunConfig cfg;
	cfg.files = {d + "/a", d + "/b", d + "/c"};
	cfg.max_files_total_bytes = 100;
	guest::test::FakeSink sink;
	guest::send_files(cfg, sink);
	auto got = parse(cfg, sink.data(bencher::vsock::kPortFiles));
	ASSERT_EQ(got.size(), 3u);
	EXPECT_EQ(got[0].status, FileStatus::ok);
	EXPECT_EQ(got[1].status, FileStatus::too_large);
	EXPECT_EQ(got[2].status, FileStatus::ok);
	EXPECT_EQ(got[2].data, std::string(40, 'c'));
}
