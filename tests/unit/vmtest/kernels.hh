// kernels.hh: the real kernels the vmtest unit tests read when they are
// there: ours (built into the build tree's kernel/) and Debian's
// linux-image-amd64 as tests/vmhost/fetch-kernel unpacked it. Tests that
// need one skip when it is absent.
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace vmtest_test {

inline bool is_file(const std::string& p) {
	struct stat st {};
	return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// build/kernel/{vmlinux,bzImage}.
inline std::optional<std::string> our_kernel(const char* name) {
	const char* b = std::getenv("abs_top_builddir");
	std::string p = std::string(b ? b : ".") + "/kernel/" + name;
	if (is_file(p)) return p;
	return std::nullopt;
}

// The newest complete entry of the test host's kernel cache: its root.
inline std::optional<std::string> debian_root() {
	std::string cache;
	if (const char* v = std::getenv("VMHOST_CACHE")) cache = v;
	else if (const char* x = std::getenv("XDG_CACHE_HOME")) cache = std::string(x) + "/bencher-runner/vmhost";
	else if (const char* h = std::getenv("HOME")) cache = std::string(h) + "/.cache/bencher-runner/vmhost";
	else return std::nullopt;
	DIR* d = opendir(cache.c_str());
	if (!d) return std::nullopt;
	std::string best;
	while (dirent* e = readdir(d)) {
		std::string n = e->d_name;
		if (n.rfind("linux-image-", 0) == 0 && is_file(cache + "/" + n + "/.complete") && n > best) best = n;
	}
	closedir(d);
	if (best.empty()) return std::nullopt;
	return cache + "/" + best;
}

// Its vmlinuz and release ("6.1.0-56-amd64").
inline std::optional<std::pair<std::string, std::string>> debian_kernel() {
	auto root = debian_root();
	if (!root) return std::nullopt;
	DIR* d = opendir((*root + "/boot").c_str());
	if (!d) return std::nullopt;
	std::optional<std::pair<std::string, std::string>> out;
	while (dirent* e = readdir(d)) {
		std::string n = e->d_name;
		if (n.rfind("vmlinuz-", 0) == 0) out = std::make_pair(*root + "/boot/" + n, n.substr(8));
	}
	closedir(d);
	return out;
}

}  // namespace vmtest_test
