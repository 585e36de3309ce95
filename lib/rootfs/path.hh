// path.hh: turns an entry name from an untrusted source into the components
// of a path below the image root, rejecting what could escape it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bencher::rootfs {

// "./usr//bin/" -> {"usr", "bin"}; "." or "./" -> {} (the root itself).
// Throws Error naming the entry for absolute names, ".." components,
// components longer than 255 bytes and empty names.
std::vector<std::string> split_path(std::string_view name);

}  // namespace bencher::rootfs
