// Unit tests for lib/results/mirror: returned files kept as base64 or
// written below an output directory, and what a hostile stream or a hostile
// output directory cannot make it do.
#include "results/mirror.hh"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "results/codec.hh"

using namespace bencher;
using namespace bencher::results;

namespace {

RunConfig config_for(std::vector<std::string> files) {
	RunConfig c;
	c.argv = {"true"};
	c.files = std::move(files);
	return c;
}

std::string file_record(const std::string& name, const std::string& data) {
	return encode_file_header(name, FileStatus::ok, data.size()) + data;
}

std::string field(const json::Value& files, size_t i, const char* key) {
	json_t* v = json_object_get(json_array_get(files.get(), i), key);
	return v && json_is_string(v) ? json_string_value(v) : json::dump(json::Value::borrow(v));
}

bool exists(const std::string& p) {
	struct stat st;
	return lstat(p.c_str(), &st) == 0;
}

}  // namespace

TEST(FileMirror, Base64InOrderAndFedByteByByte) {
	FileMirror m(config_for({"/a/out.bin", "/gone", "/big"}), "");
	std::string stream = encode_files_begin() + file_record("/a/out.bin", std::string("x\0y", 3)) +
	                     encode_file_header("/gone", FileStatus::missing, 0) +
	                     encode_file_header("/big", FileStatus::too_large, 1 << 30) + encode_files_end();
	for (char c : stream) m.feed(std::string_view(&c, 1));
	m.finish(true, true);
	json::Value files = m.to_json();
	EXPECT_EQ(field(files, 0, "base64"), base64_encode(std::string("x\0y", 3)));
	EXPECT_EQ(field(files, 0, "status"), "ok");
	EXPECT_EQ(field(files, 1, "status"), "missing");
	EXPECT_EQ(field(files, 2, "status"), "too_large");
	EXPECT_EQ(field(files, 2, "size"), "1073741824");
	EXPECT_EQ(m.error(), "");
}

TEST(FileMirror, WritesBelowTheOutputDirectory) {
	TempDir dir("mirror-test");
	std::string out = dir.path() + "/o";
	FileMirror m(config_for({"/tmp/sub/r.json"}), out);
	m.feed(encode_files_begin() + file_record("/tmp/sub/r.json", "{}") + encode_files_end());
	m.finish(true, true);
	EXPECT_EQ(read_file(out + "/tmp/sub/r.json", 100), "{}");
	EXPECT_FALSE(exists(out + "/tmp/sub/.r.json.part"));
	EXPECT_EQ(field(m.to_json(), 0, "output"), out + "/tmp/sub/r.json");
}

TEST(FileMirror, ALinkInTheOutputDirectoryIsNotFollowed) {
	TempDir dir("mirror-test");
	std::string out = dir.path() + "/o", outside = dir.path() + "/outside";
	ASSERT_EQ(mkdir(out.c_str(), 0755), 0);
	ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
	ASSERT_EQ(symlink(outside.c_str(), (out + "/etc").c_str()), 0);
	FileMirror m(config_for({"/etc/passwd", "/ok"}), out);
	m.feed(encode_files_begin() + file_record("/etc/passwd", "root::0:0") + file_record("/ok", "fine") +
	       encode_files_end());
	m.finish(true, true);
	json::Value files = m.to_json();
	EXPECT_EQ(field(files, 0, "status"), "error");
	EXPECT_NE(field(files, 0, "error").find("output directory"), std::string::npos);
	EXPECT_FALSE(exists(outside + "/passwd"));
	EXPECT_FALSE(exists(outside + "/.passwd.part"));
	EXPECT_EQ(field(files, 1, "status"), "ok");  // one bad file spoils no other
}

TEST(FileMirror, AForeignNameVoidsWhatIsIncomplete) {
	TempDir dir("mirror-test");
	std::string out = dir.path() + "/o";
	FileMirror m(config_for({"/one", "/two"}), out);
	m.feed(encode_files_begin() + file_record("/one", "1") + file_record("/evil", "x"));
	m.feed(file_record("/two", "2") + encode_files_end());  // too late: the stream is void
	m.finish(true, true);
	json::Value files = m.to_json();
	EXPECT_EQ(field(files, 0, "status"), "ok");
	EXPECT_EQ(field(files, 1, "error"), "files stream broken");
	EXPECT_NE(m.error(), "");
	EXPECT_FALSE(exists(out + "/evil"));
	EXPECT_FALSE(exists(out + "/two"));
}

TEST(FileMirror, AnIncompleteFileLeavesNoPart) {
	TempDir dir("mirror-test");
	std::string out = dir.path() + "/o";
	FileMirror m(config_for({"/two"}), out);
	m.feed(encode_files_begin() + encode_file_header("/two", FileStatus::ok, 10) + "half");
	EXPECT_TRUE(exists(out + "/.two.part"));
	m.finish(true, true);
	EXPECT_EQ(field(m.to_json(), 0, "status"), "error");
	EXPECT_EQ(field(m.to_json(), 0, "error"), "incomplete");
	EXPECT_FALSE(exists(out + "/.two.part"));
	EXPECT_FALSE(exists(out + "/two"));
}

TEST(FileMirror, NothingReceived) {
	FileMirror m(config_for({"/x"}), "");
	m.finish(false, false);  // no transport at all: no stream was owed
	EXPECT_EQ(m.error(), "");
	EXPECT_EQ(field(m.to_json(), 0, "status"), "not_received");
	FileMirror cut(config_for({"/x"}), "");
	cut.feed(encode_files_begin());
	cut.finish(true, false);
	EXPECT_EQ(cut.error(), "files stream ended early");
	EXPECT_EQ(field(cut.to_json(), 0, "error"), "not received");
}
