// Unit tests for lib/vmm/boot: e820 and zero page layout, the MP table,
// the command line, and the ELF/bzImage loaders on crafted and malformed
// images (truncated, overlapping segments, entry outside memory).
#include <asm/bootparam.h>
#include <elf.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "fake_memory.hh"
#include "vmm/boot/cpu.hh"
#include "vmm/boot/layout.hh"
#include "vmm/boot/loader.hh"

using namespace bencher;
using namespace bencher::vmm;
using namespace bencher::vmm::boot;
using bencher::vmm::test::FakeMemory;

namespace {
constexpr uint64_t MiB = 1 << 20;

// An ELF64 x86-64 executable with the given (paddr, filesz, memsz) segments;
// each segment's bytes are 0xA0 + its index.
struct Seg {
	uint64_t paddr, filesz, memsz;
};
std::vector<uint8_t> make_elf(const std::vector<Seg>& segs, uint64_t entry) {
	size_t off = sizeof(Elf64_Ehdr) + segs.size() * sizeof(Elf64_Phdr);
	std::vector<uint8_t> img(off);
	Elf64_Ehdr eh{};
	std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_entry = entry;
	eh.e_phoff = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = static_cast<uint16_t>(segs.size());
	std::memcpy(img.data(), &eh, sizeof eh);
	for (size_t i = 0; i < segs.size(); i++) {
		Elf64_Phdr ph{};
		ph.p_type = PT_LOAD;
		ph.p_offset = img.size();
		ph.p_paddr = ph.p_vaddr = segs[i].paddr;
		ph.p_filesz = segs[i].filesz;
		ph.p_memsz = segs[i].memsz;
		std::memcpy(img.data() + sizeof eh + i * sizeof ph, &ph, sizeof ph);
		img.insert(img.end(), segs[i].filesz, static_cast<uint8_t>(0xa0 + i));
	}
	return img;
}

std::string load_error(const std::vector<uint8_t>& img, const GuestMemory& mem) {
	try {
		load_kernel(img.data(), img.size(), mem);
	} catch (const Error& e) {
		return e.what();
	}
	return "";
}

std::vector<uint8_t> make_bzimage(uint64_t payload, uint16_t version = 0x20f, uint16_t xload = XLF_KERNEL_64) {
	uint8_t setup_sects = 4;
	std::vector<uint8_t> img((setup_sects + 1) * 512 + payload, 0x90);
	setup_header h{};
	h.setup_sects = setup_sects;
	h.boot_flag = 0xaa55;
	h.jump = 0x66eb;  // offset byte 0x66: header up to 0x268
	h.header = 0x53726448;
	h.version = version;
	h.loadflags = LOADED_HIGH;
	h.xloadflags = xload;
	h.init_size = static_cast<uint32_t>(payload * 2);
	h.syssize = static_cast<uint32_t>(payload / 16);
	h.cmdline_size = 2047;
	h.initrd_addr_max = 0x7fffffff;
	std::memcpy(img.data() + 0x1f1, &h, sizeof h);
	return img;
}
}  // namespace

TEST(E820, LowRamThenTheTablesReservedThenHimem) {
	FakeMemory mem(64 * MiB);
	auto map = e820_map(mem);
	ASSERT_EQ(map.size(), 3u);
	EXPECT_EQ(map[0].addr, 0u);
	EXPECT_EQ(map[0].size, kEbdaStart);
	EXPECT_EQ(map[0].type, kE820Ram);
	// The MP table and the ACPI tables: reserved, as a PC's firmware says.
	EXPECT_EQ(map[1].addr, kEbdaStart);
	EXPECT_EQ(map[1].addr + map[1].size, kHimemStart);
	EXPECT_EQ(map[1].type, kE820Reserved);
	EXPECT_LE(map[1].addr, kAcpiStart);
	EXPECT_EQ(kAcpiEnd, kHimemStart);
	EXPECT_EQ(map[2].addr, kHimemStart);
	EXPECT_EQ(map[2].size, 64 * MiB - kHimemStart);
	EXPECT_EQ(map[2].type, kE820Ram);
}

TEST(E820, RegionAboveTheHole) {
	FakeMemory mem(4 * MiB);
	mem.add(0x100000000ull, 8 * MiB);
	auto map = e820_map(mem);
	ASSERT_EQ(map.size(), 4u);
	EXPECT_EQ(map[3].addr, 0x100000000ull);
	EXPECT_EQ(map[3].size, 8 * MiB);
}

TEST(ZeroPage, ElfKernelFields) {
	FakeMemory mem(64 * MiB);
	LoadedKernel k;
	k.entry = 0x1000000;
	LoadedInitrd rd{0x3000000, 12345};
	write_boot_params(mem, k, 42, &rd);
	auto bp = mem.load<boot_params>(kZeroPage);
	EXPECT_EQ(bp.hdr.boot_flag, 0xaa55);
	EXPECT_EQ(bp.hdr.header, 0x53726448u);
	EXPECT_EQ(bp.hdr.type_of_loader, 0xff);
	EXPECT_EQ(bp.hdr.cmd_line_ptr, kCmdlineAddr);
	EXPECT_EQ(bp.hdr.cmdline_size, 42u);
	EXPECT_EQ(bp.hdr.ramdisk_image, 0x3000000u);
	EXPECT_EQ(bp.hdr.ramdisk_size, 12345u);
	EXPECT_TRUE(bp.hdr.loadflags & LOADED_HIGH);
	ASSERT_EQ(bp.e820_entries, 3);
	EXPECT_EQ(bp.e820_table[1].type, kE820Reserved);
	EXPECT_EQ(bp.e820_table[2].addr, kHimemStart);
	EXPECT_EQ(bp.e820_table[2].size, 64 * MiB - kHimemStart);
	EXPECT_EQ(bp.acpi_rsdp_addr, kAcpiStart);
}

TEST(ZeroPage, BzImageKeepsItsHeader) {
	FakeMemory mem(64 * MiB);
	auto img = make_bzimage(64 * 1024);
	auto k = load_kernel(img.data(), img.size(), mem);
	write_boot_params(mem, k, 10, nullptr);
	auto bp = mem.load<boot_params>(kZeroPage);
	EXPECT_EQ(bp.hdr.version, 0x20f);
	EXPECT_EQ(bp.hdr.init_size, 128u * 1024);
	EXPECT_EQ(bp.hdr.type_of_loader, 0xff);
	EXPECT_EQ(bp.hdr.ramdisk_image, 0u);
}

TEST(Cmdline, WrittenWithNulAndBounded) {
	FakeMemory mem(4 * MiB);
	write_cmdline(mem, "console=ttyS0 quiet");
	EXPECT_STREQ(reinterpret_cast<const char*>(mem.ptr(kCmdlineAddr, 20)), "console=ttyS0 quiet");
	EXPECT_THROW(write_cmdline(mem, std::string(kCmdlineMax, 'x')), Error);
	write_cmdline(mem, std::string(kCmdlineMax - 1, 'x'));
	EXPECT_THROW(write_cmdline(mem, "a\nb"), Error);
}

TEST(PageTables, IdentityMapsFourGiB) {
	FakeMemory mem(4 * MiB);
	write_page_tables(mem);
	EXPECT_EQ(mem.load<uint64_t>(kPml4), kPdpt | 3);
	EXPECT_EQ(mem.load<uint64_t>(kPdpt + 3 * 8), (kPd + 3 * 0x1000) | 3);
	// The 2 MiB page at 3 GiB + 2 MiB maps to itself.
	EXPECT_EQ(mem.load<uint64_t>(kPd + 3 * 0x1000 + 8), (3ull << 30 | 2 * MiB) | 0x83);
}

TEST(MpTable, ChecksumsAndProcessorEntries) {
	for (uint32_t n : {1u, 4u, 32u}) {
		FakeMemory mem(4 * MiB);
		write_mptable(mem, n);
		const uint8_t* f = mem.ptr(kEbdaStart, 16);
		EXPECT_EQ(std::memcmp(f, "_MP_", 4), 0);
		uint8_t sum = 0;
		for (int i = 0; i < 16; i++) sum = static_cast<uint8_t>(sum + f[i]);
		EXPECT_EQ(sum, 0) << "floating pointer checksum";
		uint32_t table;
		std::memcpy(&table, f + 4, 4);
		const uint8_t* t = mem.ptr(table, 44);
		ASSERT_NE(t, nullptr);
		EXPECT_EQ(std::memcmp(t, "PCMP", 4), 0);
		uint16_t len;
		std::memcpy(&len, t + 4, 2);
		ASSERT_LE(table + len, 0xa0000u) << "the table stays below 640 KiB";
		sum = 0;
		for (int i = 0; i < len; i++) sum = static_cast<uint8_t>(sum + t[i]);
		EXPECT_EQ(sum, 0) << "table checksum";
		// Processor entries come first: n of them, the first the BSP.
		int cpus = 0;
		for (const uint8_t* e = t + 44; e < t + len && e[0] == 0; e += 20) {
			EXPECT_EQ(e[1], cpus);
			EXPECT_EQ(e[3] & 2, cpus == 0 ? 2 : 0);
			cpus++;
		}
		EXPECT_EQ(cpus, static_cast<int>(n));
	}
	FakeMemory mem(4 * MiB);
	EXPECT_THROW(write_mptable(mem, 0), Error);
	EXPECT_THROW(write_mptable(mem, 33), Error);
}

TEST(ElfLoader, LoadsSegmentsAndZeroesBss) {
	FakeMemory mem(32 * MiB);
	auto img = make_elf({{16 * MiB, 100, 200}, {17 * MiB, 50, 50}}, 16 * MiB + 10);
	auto k = load_kernel(img.data(), img.size(), mem);
	EXPECT_EQ(k.kind, LoadedKernel::Kind::elf);
	EXPECT_EQ(k.entry, 16 * MiB + 10);
	EXPECT_EQ(k.high, 17 * MiB + 50);
	EXPECT_EQ(*mem.ptr(16 * MiB, 1), 0xa0);
	EXPECT_EQ(*mem.ptr(16 * MiB + 99, 1), 0xa0);
	EXPECT_EQ(*mem.ptr(16 * MiB + 100, 1), 0);
	EXPECT_EQ(*mem.ptr(17 * MiB + 49, 1), 0xa1);
}

TEST(ElfLoader, HandsEachSegmentToThePlacer) {
	FakeMemory mem(32 * MiB);
	auto img = make_elf({{16 * MiB, 100, 200}, {17 * MiB, 50, 50}}, 16 * MiB + 10);
	std::vector<std::array<uint64_t, 4>> seen;
	load_kernel(img.data(), img.size(), mem, [&](uint64_t gpa, uint64_t off, uint64_t filesz, uint64_t memsz) {
		seen.push_back({gpa, off, filesz, memsz});
	});
	ASSERT_EQ(seen.size(), 2u);
	EXPECT_EQ(seen[0][0], 16 * MiB);
	EXPECT_EQ(seen[0][2], 100u);
	EXPECT_EQ(seen[0][3], 200u);
	EXPECT_EQ(img[seen[0][1]], 0xa0);
	EXPECT_EQ(seen[1][0], 17 * MiB);
	EXPECT_EQ(img[seen[1][1]], 0xa1);
	EXPECT_EQ(*mem.ptr(16 * MiB, 1), 0);  // the placer's job, not done twice
}

TEST(ElfLoader, RejectsHostileImages) {
	FakeMemory mem(32 * MiB);
	auto good = make_elf({{16 * MiB, 100, 100}}, 16 * MiB);
	// Truncated: the header, the program headers, a segment's bytes.
	EXPECT_NE(load_error({good.begin(), good.begin() + 10}, mem), "");
	EXPECT_NE(load_error({good.begin(), good.begin() + 70}, mem).find("truncated"), std::string::npos);
	EXPECT_NE(load_error({good.begin(), good.end() - 1}, mem).find("truncated"), std::string::npos);
	// Overlapping segments.
	EXPECT_NE(load_error(make_elf({{16 * MiB, 100, 0x2000}, {16 * MiB + 0x1000, 10, 10}}, 16 * MiB), mem).find("overlap"),
	          std::string::npos);
	// A segment beyond guest memory, or wrapping around.
	EXPECT_NE(load_error(make_elf({{31 * MiB, 10, 2 * MiB}}, 31 * MiB), mem).find("outside guest memory"),
	          std::string::npos);
	EXPECT_NE(load_error(make_elf({{~0ull - 5, 1, 100}}, 16 * MiB), mem).find("outside"), std::string::npos);
	// Over our boot structures below 1 MiB.
	EXPECT_NE(load_error(make_elf({{0x7000, 10, 10}}, 0x7000), mem), "");
	// The entry outside every segment.
	EXPECT_NE(load_error(make_elf({{16 * MiB, 100, 100}}, 20 * MiB), mem).find("entry"), std::string::npos);
	// filesz > memsz.
	EXPECT_NE(load_error(make_elf({{16 * MiB, 100, 50}}, 16 * MiB), mem).find("exceeds"), std::string::npos);
	// Not x86-64, not executable, not ELF64.
	auto bad = good;
	bad[18] = 3;  // e_machine = EM_386
	EXPECT_NE(load_error(bad, mem), "");
	bad = good;
	bad[16] = ET_DYN;
	EXPECT_NE(load_error(bad, mem), "");
	bad = good;
	bad[EI_CLASS] = ELFCLASS32;
	EXPECT_NE(load_error(bad, mem), "");
	// A huge phnum.
	bad = good;
	bad[56] = 0xff;
	bad[57] = 0xff;
	EXPECT_NE(load_error(bad, mem), "");
	// No loadable segment.
	EXPECT_NE(load_error(make_elf({}, 16 * MiB), mem), "");
}

TEST(BzImageLoader, LoadsThePayloadAt1MiB) {
	FakeMemory mem(64 * MiB);
	auto img = make_bzimage(64 * 1024);
	img[5 * 512] = 0x42;
	auto k = load_kernel(img.data(), img.size(), mem);
	EXPECT_EQ(k.kind, LoadedKernel::Kind::bzimage);
	EXPECT_EQ(k.entry, kBzImageLoad + 0x200);
	EXPECT_EQ(*mem.ptr(kBzImageLoad, 1), 0x42);
	ASSERT_TRUE(k.setup);
}

TEST(BzImageLoader, RejectsHostileImages) {
	FakeMemory mem(64 * MiB);
	auto img = make_bzimage(64 * 1024);
	EXPECT_NE(load_error({img.begin(), img.begin() + 0x240}, mem), "");   // truncated header
	EXPECT_NE(load_error({img.begin(), img.begin() + 5 * 512}, mem), "");  // nothing after the setup
	EXPECT_NE(load_error(make_bzimage(1024, 0x20a), mem).find("too old"), std::string::npos);
	EXPECT_NE(load_error(make_bzimage(1024, 0x20f, 0), mem).find("64-bit"), std::string::npos);
	// syssize claims more than the file holds.
	auto t = make_bzimage(64 * 1024);
	t.resize(t.size() - 4096);
	EXPECT_NE(load_error(t, mem).find("truncated"), std::string::npos);
	// init_size larger than guest memory.
	FakeMemory small(2 * MiB);
	EXPECT_NE(load_error(make_bzimage(600 * 1024), small).find("does not fit"), std::string::npos);
}

TEST(Initrd, TopOfLowMemoryAndBounded) {
	FakeMemory mem(64 * MiB);
	std::vector<uint8_t> rd(10000, 7);
	auto r = load_initrd(rd.data(), rd.size(), mem, 20 * MiB, 0x7fffffff);
	EXPECT_EQ(r.size, 10000u);
	EXPECT_EQ(r.addr % 4096, 0u);
	EXPECT_LE(r.addr + r.size, 64 * MiB);
	EXPECT_GE(r.addr, 20 * MiB);
	EXPECT_EQ(*mem.ptr(r.addr, 1), 7);
	std::vector<uint8_t> big(50 * MiB, 1);
	EXPECT_THROW(load_initrd(big.data(), big.size(), mem, 20 * MiB, 0x7fffffff), Error);
}

namespace {
// An unlinked temporary file holding `bytes`.
struct TempFile {
	int fd = -1;
	std::vector<uint8_t> bytes;
	explicit TempFile(std::vector<uint8_t> b) : bytes(std::move(b)) {
		char tmpl[] = "/tmp/vmm-place-XXXXXX";
		fd = mkstemp(tmpl);
		EXPECT_GE(fd, 0);
		unlink(tmpl);
		EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
	}
	~TempFile() { close(fd); }
};

// `pages` pages, byte i being (i * 7) & 0xff.
std::vector<uint8_t> pattern(size_t pages) {
	std::vector<uint8_t> b(pages * static_cast<size_t>(sysconf(_SC_PAGESIZE)));
	for (size_t i = 0; i < b.size(); i++) b[i] = static_cast<uint8_t>(i * 7);
	return b;
}
}  // namespace

TEST(MappedMemory, HostAddressesMatchGuestAddressesModulo2MiB) {
	MappedMemory mem(64 * MiB);
	ASSERT_EQ(mem.regions().size(), 1u);
	for (const auto& r : mem.regions())
		EXPECT_EQ((reinterpret_cast<uintptr_t>(r.host) - r.gpa) % MappedMemory::kHugeAlign, 0u);
	*mem.ptr(64 * MiB - 1, 1) = 1;  // the whole size is there, writable
}

TEST(MappedMemory, PlaceMapsWholePagesCopiesTheRestAndNeverWritesTheFile) {
	const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
	TempFile f(pattern(6));
	MappedMemory mem(32 * MiB);
	*mem.ptr(16 * MiB + 4 * page + 0x60, 1) = 0x55;  // bss to be zeroed
	// File offset and guest address agree modulo the page: pages 1 and 2
	// of the range are mapped, the head and tail copied.
	uint64_t gpa = 16 * MiB + 0x100, off = 0x100, filesz = 3 * page + 0x50, memsz = 4 * page;
	EXPECT_EQ(mem.place(f.bytes.data(), f.fd, gpa, off, filesz, memsz), 2 * page);
	EXPECT_EQ(std::memcmp(mem.ptr(gpa, filesz), f.bytes.data() + off, filesz), 0);
	for (uint64_t i = filesz; i < memsz; i++) ASSERT_EQ(*mem.ptr(gpa + i, 1), 0) << i;
	// The guest writes a mapped page: its copy changes, the file does not.
	*mem.ptr(16 * MiB + page, 1) = 0xee;
	uint8_t b = 0;
	ASSERT_EQ(pread(f.fd, &b, 1, static_cast<off_t>(page)), 1);
	EXPECT_EQ(b, f.bytes[page]);
	EXPECT_EQ(*mem.ptr(16 * MiB + page, 1), 0xee);
	// Offsets that disagree: all copied, same bytes.
	EXPECT_EQ(mem.place(f.bytes.data(), f.fd, 20 * MiB, 0x80, 4 * page, 4 * page), 0u);
	EXPECT_EQ(std::memcmp(mem.ptr(20 * MiB, 4 * page), f.bytes.data() + 0x80, 4 * page), 0);
	// Outside guest memory: an error, nothing mapped.
	EXPECT_THROW(mem.place(f.bytes.data(), f.fd, 32 * MiB - page, 0, 2 * page, 2 * page), Error);
}

TEST(MappedMemory, LoaderThroughPlaceMatchesACopy) {
	TempFile f(make_elf({{16 * MiB, 3 * 4096 + 17, 5 * 4096}, {17 * MiB, 50, 50}}, 16 * MiB + 10));
	const auto& img = f.bytes;
	MappedMemory mapped(32 * MiB);
	FakeMemory copied(32 * MiB);
	load_kernel(img.data(), img.size(), mapped, [&](uint64_t gpa, uint64_t off, uint64_t filesz, uint64_t memsz) {
		mapped.place(img.data(), f.fd, gpa, off, filesz, memsz);
	});
	load_kernel(img.data(), img.size(), copied);
	EXPECT_EQ(std::memcmp(mapped.ptr(16 * MiB, 5 * 4096), copied.ptr(16 * MiB, 5 * 4096), 5 * 4096), 0);
	EXPECT_EQ(std::memcmp(mapped.ptr(17 * MiB, 50), copied.ptr(17 * MiB, 50), 50), 0);
}

TEST(Cpuid, TscDeadlineOnlyWhenKvmEmulatesIt) {
	for (bool deadline : {false, true}) {
		kvm::CpuidList c(1);  // one zeroed entry, as KVM_GET_SUPPORTED_CPUID fills it
		c.begin()->function = 1;
		setup_cpuid(c, 0, 1, deadline);
		EXPECT_EQ((c.find(1)->ecx >> 24) & 1, deadline ? 1u : 0u);
		EXPECT_EQ(c.find(1)->ecx >> 31, 1u);  // hypervisor present either way
	}
}
