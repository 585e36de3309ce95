// layout.hh: the low guest memory the VMM writes before the first
// instruction: zero page (boot_params with the e820 map), the command line,
// a GDT, identity page tables for long mode, and the MP table that tells a
// kernel without ACPI (ours) about every vCPU; acpi/tables.hh writes the
// ACPI tables for a kernel with it. Addresses follow Firecracker's x86_64
// layout.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/boot/loader.hh"
#include "vmm/memory.hh"

namespace bencher::vmm::boot {

constexpr uint64_t kGdtAddr = 0x500;
constexpr uint64_t kIdtAddr = 0x520;
constexpr uint64_t kZeroPage = 0x7000;
constexpr uint64_t kBootStack = 0x8ff0;
constexpr uint64_t kPml4 = 0x9000;
constexpr uint64_t kPdpt = 0xa000;
constexpr uint64_t kPd = 0xb000;  // four pages: the first 4 GiB in 2 MiB pages
constexpr uint64_t kEbdaStart = 0x9fc00;  // the MP table lives here
// The ACPI tables: the RSDP first, where Linux scans for it (and the zero
// page points), then the others. From the EBDA to 1 MiB the e820 map says
// reserved, as a PC's firmware does.
constexpr uint64_t kAcpiStart = 0xe0000, kAcpiEnd = 0x100000;
constexpr uint64_t kCmdlineAddr = 0x20000;
constexpr size_t kCmdlineMax = 2048;      // x86 COMMAND_LINE_SIZE, with its NUL
constexpr uint64_t kIoapicAddr = 0xfec00000;
constexpr uint64_t kLapicAddr = 0xfee00000;
constexpr uint32_t kMaxVcpus = 32;
constexpr uint32_t kE820Ram = 1, kE820Reserved = 2;

// GDT selectors set up by write_gdt().
constexpr uint16_t kCodeSel = 0x08, kDataSel = 0x10, kTssSel = 0x18;
extern const uint64_t kGdt[4];

struct E820 {
	uint64_t addr, size;
	uint32_t type;
};
// The memory map the guest sees: RAM below the EBDA, the EBDA and BIOS area
// (MP and ACPI tables) reserved, RAM from 1 MiB on.
std::vector<E820> e820_map(const GuestMemory& mem);

// Fills and writes the zero page, with the RSDP at kAcpiStart; `setup` is
// the bzImage's header (nullopt for an ELF kernel).
void write_boot_params(const GuestMemory& mem, const LoadedKernel& k, uint64_t cmdline_len,
                       const LoadedInitrd* initrd);
// Writes the command line (validated: printable, shorter than kCmdlineMax).
void write_cmdline(const GuestMemory& mem, const std::string& cmdline);
void write_gdt(const GuestMemory& mem);
void write_page_tables(const GuestMemory& mem);
// The Intel MP 1.4 floating pointer and configuration table for `ncpus`
// processors, one I/O APIC and ISA IRQs 0-23 wired 1:1.
void write_mptable(const GuestMemory& mem, uint32_t ncpus);

}  // namespace bencher::vmm::boot
