// cache.hh: where the runner's cached root filesystem for an image lives.
// The key covers everything that shapes the image mkrootfs writes: the
// image's digest, bencher-init's own digest, the disk size and our version,
// so a new init or size is a new entry and an old one is never reused.
#pragma once

#include <string>

namespace bencher::runner {

struct RootfsKey {
	std::string image_digest;
	std::string init_digest;  // hex SHA-256 of bencher-init
	std::string disk;         // --disk as given, "" = sized by mkrootfs
	std::string version;
};

// 32 hex digits; the same key the shell runner computed, so caches built by
// it stay valid.
std::string rootfs_key(const RootfsKey& k);

// FILE's SHA-256 in hex, remembered under MEMO_DIR by device, inode, size and
// modification time: hashing bencher-init (megabytes, every instruction
// emulated in a TCG test host) on every run would cost more than the run's
// own set-up. The memo is best effort: a read-only cache only misses.
std::string file_digest_memo(const std::string& file, const std::string& memo_dir);

}  // namespace bencher::runner
