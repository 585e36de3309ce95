// ext4_writer.hh: builds an ext4 file system in an image file with libext2fs,
// entry by entry, in one pass: file data goes straight to its final blocks,
// directories are kept in memory (names and inode numbers only) and written
// at finish(). No mount, no root, no intermediate directory.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hh"
#include "rootfs/entry.hh"

namespace bencher::rootfs {

// Thrown when the file system is full; the caller turns it into
// "out of space: needs at least N" once it knows N.
class OutOfSpace : public Error {
public:
	using Error::Error;
};

struct WriterOptions {
	uint64_t blocks = 0;   // file system size in 4 KiB blocks
	uint64_t inodes = 0;
	uint64_t journal_blocks = 0;  // 0: no journal
	std::string label;            // at most 16 bytes
	std::array<uint8_t, 16> uuid{};
	int64_t now = 0;       // the time stamp of everything the writer creates
};

class Ext4Writer {
public:
	// `path` is the image file (created empty by the caller), `fd` open on it
	// read-write.
	Ext4Writer(const std::string& path, int fd, const WriterOptions& opts);
	~Ext4Writer();
	Ext4Writer(const Ext4Writer&) = delete;
	Ext4Writer& operator=(const Ext4Writer&) = delete;

	// Adds one entry with tar semantics: missing parents are created, a later
	// entry replaces an earlier one of the same name (a directory over a
	// directory updates its metadata).
	void add(const Entry& e, DataReader& data);
	// Creates a directory if nothing has the name yet.
	void ensure_dir(const std::string& path, uint32_t mode);
	// Replaces whatever is at `path` with this entry (directories included,
	// if empty): what --init uses for /bencher and /bencher/init.
	void replace(const Entry& e, DataReader& data);
	// Writes directories, bitmaps and superblocks; the image is complete.
	void finish();

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

}  // namespace bencher::rootfs
