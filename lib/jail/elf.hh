// elf.hh: what a dynamically linked program needs inside an empty jail: its
// ELF interpreter and the DT_NEEDED libraries, found the way ld.so finds them
// without /etc/ld.so.cache (RPATH, RUNPATH, the multiarch system dirs).
// The parser is bounded and treats every offset in the file as hostile.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bencher::jail {

struct ElfInfo {
	std::string interp;                 // PT_INTERP, empty for static programs
	std::vector<std::string> needed;    // DT_NEEDED, in order
	std::vector<std::string> rpath;     // DT_RPATH entries (ignored when RUNPATH is set)
	std::vector<std::string> runpath;   // DT_RUNPATH entries
	bool has_runpath = false;
};

// Reads up to len bytes at off; returns the count (short only at end of file).
using PreadFn = std::function<size_t(void* buf, size_t len, uint64_t off)>;

// Parses a 64-bit little-endian ELF file of this machine. Throws Error
// "NAME: why" for anything else or anything out of bounds.
ElfInfo parse_elf(const PreadFn& pread_fn, uint64_t file_size, const std::string& name);
ElfInfo parse_elf_fd(int fd, const std::string& name);
ElfInfo parse_elf_bytes(std::string_view data, const std::string& name);

// True when the fd holds an ELF file ld.so would accept on this machine.
bool elf_matches_host(int fd);

// One file to bind-mount read-only into the jail.
struct JailFile {
	std::string jail_path;  // absolute path inside the jail (what ld.so opens)
	std::string host_path;  // the real file on the host
};

struct LibrarySearch {
	std::vector<std::string> system_dirs;  // default: multiarch + lib64 + lib dirs
	size_t max_libraries = 512;
};
LibrarySearch default_search();

// The interpreter and every library the program at host path `exec_path`
// (already open as exec_fd) needs, transitively; empty for a static program.
std::vector<JailFile> program_dependencies(int exec_fd, const std::string& exec_path,
					   const LibrarySearch& search = default_search());

}  // namespace bencher::jail
