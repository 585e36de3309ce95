// entry.hh: one file system entry as a source (tar stream, directory) hands
// it to the ext4 writer. Sources fill it from untrusted input; the writer
// validates paths and limits before acting on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bencher::rootfs {

enum class EntryType { regular, directory, symlink, hardlink, chardev, blockdev, fifo, socket };

const char* entry_type_name(EntryType type);

struct Timestamp {
	int64_t sec = 0;
	uint32_t nsec = 0;
};

struct Xattr {
	std::string name;   // full name, "security.capability"
	std::string value;  // raw bytes
};

struct Entry {
	std::string path;     // relative to the root, as the source spells it
	EntryType type = EntryType::regular;
	uint32_t mode = 0;    // permission bits including setuid/setgid/sticky
	uint32_t uid = 0;
	uint32_t gid = 0;
	Timestamp mtime, atime, ctime;
	uint64_t size = 0;    // regular files: the logical size (holes included)
	bool sparse = false;  // regular files: blocks only where data arrives
	std::string target;   // symlink target, or the path a hard link names
	uint32_t dev_major = 0;
	uint32_t dev_minor = 0;
	std::vector<Xattr> xattrs;
};

// The data of one regular file: chunks in increasing offset order, holes
// simply absent. A chunk stays valid until the next call.
class DataReader {
public:
	virtual ~DataReader() = default;
	// Returns false at the end of the data.
	virtual bool next(uint64_t& offset, const void*& data, size_t& len) = 0;
};

// A reader with no data (empty files, everything but regular files).
class NoData : public DataReader {
public:
	bool next(uint64_t&, const void*&, size_t&) override { return false; }
};

}  // namespace bencher::rootfs
