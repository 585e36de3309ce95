// Fuzz target: the file mirror collect-results runs for --output-dir over
// what arrives on port 5005, fed in input-chosen pieces (the first byte picks
// the chunk size). Its output directory holds a symbolic link to a directory
// beside it; whatever the stream says, nothing may appear there.
// fuzz-sources: lib/results/mirror.cc lib/results/protocol.cc lib/results/codec.cc lib/common/error.cc lib/common/digest.cc lib/common/fd.cc lib/common/json.cc lib/common/log.cc
// fuzz-pkgs: libcrypto jansson
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "results/mirror.hh"

namespace {

bool empty_dir(const std::string& path) {
	DIR* d = opendir(path.c_str());
	if (!d) return false;
	int n = 0;
	while (readdir(d)) n++;
	closedir(d);
	return n == 2;  // . and ..
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	using namespace bencher;
	if (size == 0) return 0;
	static TempDir top("fuzz-mirror");
	log::set_level(log::Level::error);  // a hostile stream's warnings are expected
	std::string out = top.path() + "/out", outside = top.path() + "/outside";
	remove_tree(out);
	remove_tree(outside);
	if (mkdir(out.c_str(), 0755) < 0 || mkdir(outside.c_str(), 0755) < 0 ||
	    symlink(outside.c_str(), (out + "/d").c_str()) < 0)
		__builtin_trap();
	results::RunConfig c;
	c.argv = {"true"};
	c.files = {"/a", "/d/e/f", "/tmp/out.json"};
	c.max_file_bytes = 4096;
	c.max_files_total_bytes = 6000;
	size_t step = data[0] % 64 + 1;
	std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
	results::FileMirror m(c, out);
	for (size_t i = 0; i < in.size(); i += step) m.feed(in.substr(i, step));
	m.finish(true, true);
	if (json_array_size(m.to_json().get()) != c.files.size()) __builtin_trap();
	if (!empty_dir(outside)) __builtin_trap();
	return 0;
}
