// replay.cc: a main() for libFuzzer targets built with g++, so every target
// also runs in `make check` over its seed corpus (hostile inputs included)
// without clang. `make fuzz` builds the same targets with real libFuzzer.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void collect(const std::string& path, std::vector<std::string>& out) {
	struct stat st {};
	if (stat(path.c_str(), &st) != 0) return;
	if (!S_ISDIR(st.st_mode)) {
		out.push_back(path);
		return;
	}
	DIR* d = opendir(path.c_str());
	if (d == nullptr) return;
	while (dirent* e = readdir(d)) {
		std::string name = e->d_name;
		if (name == "." || name == "..") continue;
		collect(path + "/" + name, out);
	}
	closedir(d);
}

int main(int argc, char** argv) {
	std::vector<std::string> files;
	for (int i = 1; i < argc; i++) collect(argv[i], files);
	std::sort(files.begin(), files.end());
	for (const auto& f : files) {
		std::ifstream in(f, std::ios::binary);
		std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		LLVMFuzzerTestOneInput(data.data(), data.size());
	}
	// Also the empty input, which every parser must survive.
	LLVMFuzzerTestOneInput(nullptr, 0);
	std::printf("replayed %zu inputs\n", files.size() + 1);
	return 0;
}
