// loader.hh: puts a Linux kernel into guest memory, either an ELF vmlinux
// (64-bit entry at e_entry, as Firecracker boots it) or a bzImage (the Linux
// boot protocol's 64-bit entry at load address + 0x200), and an initrd.
// Images are untrusted: every offset and size is checked before a byte moves.
#pragma once

#include <asm/bootparam.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "vmm/memory.hh"

namespace bencher::vmm::boot {

struct LoadedKernel {
	enum class Kind { elf, bzimage } kind = Kind::elf;
	uint64_t entry = 0;           // guest physical address of the 64-bit entry
	uint64_t low = 0, high = 0;   // the guest range the image occupies
	std::optional<setup_header> setup;  // bzImage: its header, for the zero page
};

constexpr uint64_t kHimemStart = 0x100000;     // nothing of ours lives above 1 MiB
constexpr uint64_t kBzImageLoad = 0x100000;    // where a bzImage's kernel part goes

// How a checked piece of the image reaches guest memory: `filesz` bytes
// from image offset `offset` to guest address `gpa`, then zeros up to
// `memsz` (the range is inside guest memory). Empty: copy it.
// bencher-vmm maps the kernel file's pages in instead (MappedMemory::place).
using Place = std::function<void(uint64_t gpa, uint64_t offset, uint64_t filesz, uint64_t memsz)>;

LoadedKernel load_elf(const uint8_t* data, size_t len, const GuestMemory& mem, const Place& place = {});
LoadedKernel load_bzimage(const uint8_t* data, size_t len, const GuestMemory& mem, const Place& place = {});
// Sniffs the format (ELF magic or the bzImage "HdrS" signature).
LoadedKernel load_kernel(const uint8_t* data, size_t len, const GuestMemory& mem, const Place& place = {});

struct LoadedInitrd {
	uint64_t addr = 0, size = 0;
};
// Places the initrd page-aligned at the top of RAM below 4 GiB and below
// `max_addr` (the kernel's initrd_addr_max), above `kernel_end`.
LoadedInitrd load_initrd(const uint8_t* data, size_t len, const GuestMemory& mem, uint64_t kernel_end,
                         uint64_t max_addr);

}  // namespace bencher::vmm::boot
