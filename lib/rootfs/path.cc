// path.cc: entry name validation (see path.hh). Tar semantics for "./" and
// repeated slashes; anything that names a place outside the root is an error.
#include "rootfs/path.hh"

#include "common/error.hh"
#include "common/path.hh"

namespace bencher::rootfs {

namespace {
constexpr size_t kMaxName = 255;   // ext4 directory entry name limit
constexpr size_t kMaxPath = 4096;  // PATH_MAX: longer names are hostile
}  // namespace

std::vector<std::string> split_path(std::string_view name) {
	if (name.empty()) fail("entry with an empty name");
	std::string shown(name.substr(0, 200));
	if (name.size() > kMaxPath) fail(strprintf("%s...: name longer than %zu bytes", shown.c_str(), kMaxPath));
	if (name.front() == '/') fail(strprintf("%s: absolute name refused", shown.c_str()));
	std::vector<std::string> parts;
	for (std::string_view part : path_components(name)) {
		if (part == "..") fail(strprintf("%s: name with \"..\" refused (path traversal)", shown.c_str()));
		if (part.size() > kMaxName)
			fail(strprintf("%s: component longer than %zu bytes", shown.c_str(), kMaxName));
		parts.emplace_back(part);
	}
	return parts;
}

}  // namespace bencher::rootfs
