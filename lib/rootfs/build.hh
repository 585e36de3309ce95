// build.hh: the whole mkrootfs job, source to finished image: choose the
// source reader, size the file system, write it, install the guest init,
// and publish the image atomically (nothing is left behind on failure).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rootfs/estimate.hh"

namespace bencher::rootfs {

struct BuildOptions {
	std::string output;
	std::string source;       // a tar file, a directory, or "" / "-" for stdin
	std::string init;         // host file installed as /bencher/init ("" = none)
	SizeRequest size;
	std::string label;
	std::optional<std::array<uint8_t, 16>> uuid;
	std::optional<int64_t> source_date_epoch;
	std::string spool_dir;    // where a pipe is spooled for sizing ("" = beside the output)
	std::optional<StreamSize> estimate;  // sizes a pipe instead of the spool
};

// Where --init puts the guest init (interfaces.md).
constexpr const char* kInitPath = "bencher/init";

struct BuildResult {
	uint64_t size = 0;     // bytes
	uint64_t inodes = 0;
	bool spooled = false;  // the input was copied to a temp file for sizing
};

BuildResult build(const BuildOptions& opts);

// "0123abcd-...": the 36-character form; throws a usage error otherwise.
std::array<uint8_t, 16> parse_uuid(std::string_view text);

}  // namespace bencher::rootfs
