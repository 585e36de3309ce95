// path.hh: the components of a '/'-separated path, for the code that checks
// names from untrusted sources (tar entries, symlink targets) one component
// at a time. Lexical only: no file system is consulted.
#pragma once

#include <string_view>
#include <vector>

namespace bencher {

// "./a//b/../c/" -> {"a", "b", "..", "c"}: empty and "." components are
// dropped, ".." is kept for the caller to judge. The views point into path.
inline std::vector<std::string_view> path_components(std::string_view path) {
	std::vector<std::string_view> parts;
	size_t i = 0;
	while (i < path.size()) {
		size_t j = path.find('/', i);
		if (j == std::string_view::npos) j = path.size();
		std::string_view part = path.substr(i, j - i);
		if (!part.empty() && part != ".") parts.push_back(part);
		i = j + 1;
	}
	return parts;
}

}  // namespace bencher
