// dir_source.hh: a host directory as a source of entries (mkrootfs DIR, as
// `mke2fs -d`), walked in name order so the image is deterministic; hard
// links are found by (dev, ino), holes by SEEK_DATA/SEEK_HOLE.
#pragma once

#include <functional>
#include <string>

#include "rootfs/entry.hh"
#include "rootfs/estimate.hh"

namespace bencher::rootfs {

// Reads a host file's data, skipping holes.
class FileReader : public DataReader {
public:
	FileReader(int fd, uint64_t size, std::string name);
	bool next(uint64_t& offset, const void*& data, size_t& len) override;

private:
	int fd_;
	uint64_t size_;
	uint64_t pos_ = 0;
	uint64_t hole_ = 0;  // end of the current data region
	bool seek_ok_ = true;
	std::string name_;
	std::vector<char> buf_;
};

// Calls fn for every entry below `root` (the root itself first, as ".").
// `with_data` false: fn gets a NoData reader and files are not opened.
void walk_directory(const std::string& root, bool with_data,
                    const std::function<void(const Entry&, DataReader&, uint64_t blocks)>& fn);

}  // namespace bencher::rootfs
