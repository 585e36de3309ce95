// tables.cc: the tables of tables.hh, byte by byte after ACPI 6.5 chapter 5
// (5.2.5 RSDP, 5.2.6 SDT header, 5.2.8 XSDT, 5.2.9 FADT, 5.2.12 MADT).
#include "vmm/acpi/tables.hh"

#include <algorithm>
#include <cstring>

#include "common/error.hh"
#include "vmm/acpi/aml.hh"
#include "vmm/boot/layout.hh"

namespace bencher::vmm::acpi {

namespace {

constexpr char kOemId[] = "BENCHR";  // 6 characters
constexpr char kCreatorId[] = "BVMM";  // 4; also the first half of each table id
constexpr uint32_t kRevision = 1;      // OEM and creator revisions
constexpr size_t kHeaderSize = 36;
constexpr uint8_t kFadtRevision = 6, kFadtMinor = 5;
constexpr size_t kFadtSize = 276;
// FADT fields (offsets into the table).
constexpr size_t kFadtDsdt = 40, kFadtBootArch = 109, kFadtFlags = 112, kFadtResetReg = 116,
                 kFadtResetValue = 128, kFadtMinorVersion = 131, kFadtXDsdt = 140, kFadtHypervisor = 268;
// IA-PC boot architecture flags: an 8042, no VGA, no CMOS RTC (so the
// kernel probes none: each probe is VM exits for nothing).
constexpr uint16_t kBoot8042 = 1 << 1, kBootNoVga = 1 << 2, kBootNoCmosRtc = 1 << 5;
// Fixed feature flags: the power and sleep buttons are absent, the reset
// register is there, and the hardware is reduced: no PM timer, no SCI, no
// legacy PIC, as Firecracker.
constexpr uint32_t kFlagPwrButton = 1 << 4, kFlagSlpButton = 1 << 5, kFlagResetRegSup = 1 << 10,
                   kFlagHwReduced = 1 << 20;
// The reset register: the i8042's command port and its pulse-reset
// command, which bencher-vmm takes as a reboot (the same as reboot=k).
constexpr uint8_t kGasSystemIo = 1, kGasByteAccess = 1;
constexpr uint16_t kResetPort = 0x64;
constexpr uint8_t kResetValue = 0xfe;
// MADT entries.
constexpr uint8_t kMadtLapic = 0, kMadtIoapic = 1;
constexpr uint32_t kLapicEnabled = 1;

void put(Bytes& t, size_t off, uint64_t v, size_t n) {
	for (size_t i = 0; i < n; i++) t[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A table: the common header, then `body`; length and checksum filled in.
// The table id is "BVMM" and the signature ("BVMMFACP").
Bytes sdt(const char (&sig)[5], uint8_t revision, const Bytes& body) {
	Bytes t(kHeaderSize + body.size());
	std::memcpy(&t[0], sig, 4);
	put(t, 4, t.size(), 4);
	t[8] = revision;
	std::memcpy(&t[10], kOemId, 6);
	std::memcpy(&t[16], kCreatorId, 4);
	std::memcpy(&t[20], sig, 4);
	put(t, 24, kRevision, 4);
	std::memcpy(&t[28], kCreatorId, 4);
	put(t, 32, kRevision, 4);
	std::copy(body.begin(), body.end(), t.begin() + kHeaderSize);
	t[9] = checksum(t.data(), t.size());
	return t;
}

uint64_t align16(uint64_t v) { return (v + 15) & ~uint64_t{15}; }

// The first serial port, so a kernel without legacy interrupts (hardware-
// reduced ACPI maps no ISA IRQ by itself) can open ttyS0 through PnP.
Bytes com1() {
	using namespace aml;
	return device("COM1", cat({name("_HID", eisa_id("PNP0501")), name("_UID", integer(0)),
	                           name("_CRS", resource_template(cat({io(0x3f8, 8), interrupt(4, true, false)})))}));
}

Bytes virtio_mmio(size_t i, const MmioDevice& d) {
	using namespace aml;
	if (d.base + d.size > 0x100000000ull || d.size > 0xffffffffull)
		fail(strprintf("ACPI: virtio-mmio device at 0x%llx is above 4 GiB", (unsigned long long)d.base));
	Bytes mmio = memory32_fixed(true, static_cast<uint32_t>(d.base), static_cast<uint32_t>(d.size));
	Bytes crs = resource_template(cat({mmio, interrupt(d.gsi, true, false)}));
	return device(strprintf("V%03zu", i),
	              cat({name("_HID", string("LNRO0005")), name("_UID", integer(i)), name("_CRS", crs)}));
}

}  // namespace

uint8_t checksum(const uint8_t* p, size_t n) {
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++) s = static_cast<uint8_t>(s + p[i]);
	return static_cast<uint8_t>(-s);
}

Bytes rsdp(uint64_t xsdt_addr) {
	Bytes r(36);
	std::memcpy(&r[0], "RSD PTR ", 8);
	std::memcpy(&r[9], kOemId, 6);
	r[15] = 2;          // revision; the RSDT address (16) stays 0: none
	put(r, 20, 36, 4);  // length
	put(r, 24, xsdt_addr, 8);
	r[8] = checksum(r.data(), 20);         // of ACPI 1.0's part
	r[32] = checksum(r.data(), r.size());  // of all of it
	return r;
}

Bytes xsdt(const std::vector<uint64_t>& tables) {
	Bytes body;
	for (uint64_t a : tables) aml::le(body, a, 8);
	return sdt("XSDT", 1, body);
}

Bytes fadt(uint64_t dsdt_addr) {
	Bytes body(kFadtSize - kHeaderSize);
	auto at = [](size_t off) { return off - kHeaderSize; };
	put(body, at(kFadtDsdt), dsdt_addr, 4);
	put(body, at(kFadtXDsdt), dsdt_addr, 8);
	put(body, at(kFadtBootArch), kBoot8042 | kBootNoVga | kBootNoCmosRtc, 2);
	put(body, at(kFadtFlags), kFlagPwrButton | kFlagSlpButton | kFlagResetRegSup | kFlagHwReduced, 4);
	size_t reg = at(kFadtResetReg);  // a Generic Address Structure
	body[reg] = kGasSystemIo;
	body[reg + 1] = 8;  // bit width
	body[reg + 3] = kGasByteAccess;
	put(body, reg + 4, kResetPort, 8);
	body[at(kFadtResetValue)] = kResetValue;
	body[at(kFadtMinorVersion)] = kFadtMinor;
	std::memcpy(&body[at(kFadtHypervisor)], "BENCHVMM", 8);
	return sdt("FACP", kFadtRevision, body);
}

Bytes madt(uint32_t ncpus) {
	if (ncpus == 0 || ncpus > boot::kMaxVcpus) fail(strprintf("ACPI: %u vCPUs (1-%u)", ncpus, boot::kMaxVcpus));
	Bytes body;
	aml::le(body, boot::kLapicAddr, 4);
	aml::le(body, 0, 4);  // flags: no PC-AT PICs to set up (hardware-reduced)
	for (uint32_t i = 0; i < ncpus; i++) {
		body.insert(body.end(), {kMadtLapic, 8, static_cast<uint8_t>(i), static_cast<uint8_t>(i)});
		aml::le(body, kLapicEnabled, 4);
	}
	body.insert(body.end(), {kMadtIoapic, 12, static_cast<uint8_t>(ncpus), 0});
	aml::le(body, boot::kIoapicAddr, 4);
	aml::le(body, 0, 4);  // its first GSI
	return sdt("APIC", 6, body);
}

Bytes dsdt(const std::vector<MmioDevice>& devices) {
	Bytes body = com1();
	for (size_t i = 0; i < devices.size(); i++) {
		Bytes d = virtio_mmio(i, devices[i]);
		body.insert(body.end(), d.begin(), d.end());
	}
	return sdt("DSDT", 2, aml::scope("_SB_", body));
}

void write_tables(const GuestMemory& mem, uint32_t ncpus, const std::vector<MmioDevice>& devices) {
	uint64_t next = align16(boot::kAcpiStart + 36);
	auto place = [&](const Bytes& t) {
		uint64_t at = next;
		if (at + t.size() > boot::kAcpiEnd) fail("ACPI: the tables do not fit below 1 MiB");
		mem.write(at, t.data(), t.size());
		next = align16(at + t.size());
		return at;
	};
	uint64_t dsdt_at = place(dsdt(devices));
	uint64_t fadt_at = place(fadt(dsdt_at));
	uint64_t madt_at = place(madt(ncpus));
	uint64_t xsdt_at = place(xsdt({fadt_at, madt_at}));
	Bytes r = rsdp(xsdt_at);
	mem.write(boot::kAcpiStart, r.data(), r.size());
}

}  // namespace bencher::vmm::acpi
