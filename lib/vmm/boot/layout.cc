// layout.cc: the boot structures of layout.hh.
#include "vmm/boot/layout.hh"

#include <cstring>

#include "common/error.hh"

namespace bencher::vmm::boot {

const uint64_t kGdt[4] = {
    0,                      // null
    0x00af9b000000ffffull,  // 64-bit code
    0x00cf93000000ffffull,  // data
    0x008f8b000000ffffull,  // TSS
};

std::vector<E820> e820_map(const GuestMemory& mem) {
	std::vector<E820> map;
	map.push_back({0, kEbdaStart, kE820Ram});
	map.push_back({kEbdaStart, kHimemStart - kEbdaStart, kE820Reserved});
	for (const auto& r : mem.regions()) {
		uint64_t start = std::max(r.gpa, kHimemStart);
		if (r.gpa + r.size <= start) continue;
		map.push_back({start, r.gpa + r.size - start, kE820Ram});
	}
	return map;
}

void write_cmdline(const GuestMemory& mem, const std::string& cmdline) {
	if (cmdline.size() >= kCmdlineMax)
		fail(strprintf("kernel command line too long (%zu bytes, at most %zu)", cmdline.size(), kCmdlineMax - 1));
	for (char c : cmdline)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail("kernel command line: control character");
	mem.write(kCmdlineAddr, cmdline.c_str(), cmdline.size() + 1);
}

void write_boot_params(const GuestMemory& mem, const LoadedKernel& k, uint64_t cmdline_len,
                       const LoadedInitrd* initrd) {
	boot_params bp{};
	if (k.setup) {
		bp.hdr = *k.setup;
	} else {
		bp.hdr.boot_flag = 0xaa55;
		bp.hdr.header = 0x53726448;
		bp.hdr.kernel_alignment = 0x1000000;
	}
	bp.hdr.type_of_loader = 0xff;
	bp.hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	bp.hdr.heap_end_ptr = 0xfe00;
	bp.hdr.cmd_line_ptr = static_cast<uint32_t>(kCmdlineAddr);
	bp.hdr.cmdline_size = static_cast<uint32_t>(cmdline_len);
	if (initrd) {
		bp.hdr.ramdisk_image = static_cast<uint32_t>(initrd->addr);
		bp.hdr.ramdisk_size = static_cast<uint32_t>(initrd->size);
	}
	auto map = e820_map(mem);
	if (map.size() > E820_MAX_ENTRIES_ZEROPAGE) fail("e820: too many entries");
	for (size_t i = 0; i < map.size(); i++) {
		bp.e820_table[i].addr = map[i].addr;
		bp.e820_table[i].size = map[i].size;
		bp.e820_table[i].type = map[i].type;
	}
	bp.e820_entries = static_cast<uint8_t>(map.size());
	bp.acpi_rsdp_addr = kAcpiStart;
	mem.store(kZeroPage, bp);
}

void write_gdt(const GuestMemory& mem) {
	mem.write(kGdtAddr, kGdt, sizeof kGdt);
	mem.store<uint64_t>(kIdtAddr, 0);
}

void write_page_tables(const GuestMemory& mem) {
	mem.store<uint64_t>(kPml4, kPdpt | 0x03);
	for (uint64_t i = 0; i < 4; i++) {
		mem.store<uint64_t>(kPdpt + i * 8, (kPd + i * 0x1000) | 0x03);
		for (uint64_t j = 0; j < 512; j++)
			mem.store<uint64_t>(kPd + i * 0x1000 + j * 8, ((i << 30) | (j << 21)) | 0x83);
	}
}

namespace {
#pragma pack(push, 1)
struct MpfIntel {
	char signature[4];
	uint32_t physptr;
	uint8_t length, specification, checksum, feature1, feature2, feature3, feature4, feature5;
};
struct MpcTable {
	char signature[4];
	uint16_t length;
	uint8_t spec, checksum;
	char oem[8], productid[12];
	uint32_t oemptr;
	uint16_t oemsize, oemcount;
	uint32_t lapic, reserved;
};
struct MpcCpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
};
struct MpcBus {
	uint8_t type, busid;
	char bustype[6];
};
struct MpcIoapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
};
struct MpcIntsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
};
#pragma pack(pop)
static_assert(sizeof(MpfIntel) == 16 && sizeof(MpcTable) == 44 && sizeof(MpcCpu) == 20 && sizeof(MpcBus) == 8 &&
              sizeof(MpcIoapic) == 8 && sizeof(MpcIntsrc) == 8);

uint8_t checksum(const uint8_t* p, size_t n) {
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++) s = static_cast<uint8_t>(s + p[i]);
	return static_cast<uint8_t>(-s);
}

template <typename T>
void put(std::vector<uint8_t>& out, const T& v) {
	const auto* p = reinterpret_cast<const uint8_t*>(&v);
	out.insert(out.end(), p, p + sizeof v);
}
}  // namespace

void write_mptable(const GuestMemory& mem, uint32_t ncpus) {
	if (ncpus == 0 || ncpus > kMaxVcpus) fail(strprintf("mptable: %u vCPUs (1-%u)", ncpus, kMaxVcpus));
	const uint8_t ioapic_id = static_cast<uint8_t>(ncpus);
	std::vector<uint8_t> body;
	uint16_t count = 0;
	for (uint32_t i = 0; i < ncpus; i++) {
		MpcCpu c{};
		c.type = 0;  // MP_PROCESSOR
		c.apicid = static_cast<uint8_t>(i);
		c.apicver = 0x14;
		c.cpuflag = 1 | (i == 0 ? 2 : 0);  // enabled, BSP
		c.cpufeature = 0x600;
		c.featureflag = 0x201;  // FPU, APIC
		put(body, c);
		count++;
	}
	MpcBus bus{};
	bus.type = 1;  // MP_BUS
	std::memcpy(bus.bustype, "ISA   ", 6);
	put(body, bus);
	count++;
	MpcIoapic io{};
	io.type = 2;  // MP_IOAPIC
	io.apicid = ioapic_id;
	io.apicver = 0x11;
	io.flags = 1;
	io.apicaddr = static_cast<uint32_t>(kIoapicAddr);
	put(body, io);
	count++;
	for (uint8_t irq = 0; irq < 24; irq++) {
		MpcIntsrc s{};
		s.type = 3;  // MP_INTSRC
		s.irqtype = 0;  // mp_INT
		s.srcbus = 0;
		s.srcbusirq = irq;
		s.dstapic = ioapic_id;
		s.dstirq = irq;
		put(body, s);
		count++;
	}
	MpcIntsrc lint0{4, 3, 0, 0, 0, 0xff, 0};  // MP_LINTSRC, mp_ExtINT on LINT0
	MpcIntsrc lint1{4, 1, 0, 0, 0, 0xff, 1};  // mp_NMI on LINT1
	put(body, lint0);
	put(body, lint1);
	count += 2;

	MpcTable t{};
	std::memcpy(t.signature, "PCMP", 4);
	t.length = static_cast<uint16_t>(sizeof t + body.size());
	t.spec = 4;
	std::memcpy(t.oem, "BENCHER ", 8);
	std::memcpy(t.productid, "BENCHER-VMM ", 12);
	t.oemcount = count;
	t.lapic = static_cast<uint32_t>(kLapicAddr);
	std::vector<uint8_t> table;
	put(table, t);
	table.insert(table.end(), body.begin(), body.end());
	table[7] = checksum(table.data(), table.size());

	MpfIntel f{};
	std::memcpy(f.signature, "_MP_", 4);
	f.physptr = static_cast<uint32_t>(kEbdaStart + sizeof f);
	f.length = 1;
	f.specification = 4;
	f.checksum = checksum(reinterpret_cast<uint8_t*>(&f), sizeof f);
	if (sizeof f + table.size() > 0xa0000 - kEbdaStart) fail("mptable: too large");
	mem.store(kEbdaStart, f);
	mem.write(kEbdaStart + sizeof f, table.data(), table.size());
}

}  // namespace bencher::vmm::boot
