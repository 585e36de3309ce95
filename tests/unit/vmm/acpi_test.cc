// Unit tests for lib/vmm/acpi: the AML encoder's edge cases, every table's
// checksum and fields, the MADT per vCPU count, the DSDT's AML for one device
// (the exact bytes iasl 20200925 compiles from the ASL in the comment) and
// for several (decoded back), and the tables as write_tables lays them out.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../common/error_of.hh"
#include "common/error.hh"
#include "fake_memory.hh"
#include "vmm/acpi/aml.hh"
#include "vmm/acpi/tables.hh"
#include "vmm/boot/layout.hh"

using namespace bencher;
using namespace bencher::vmm;
using namespace bencher::vmm::acpi;
using bencher::test::error_of;
using bencher::vmm::test::FakeMemory;

namespace {

uint64_t get(const uint8_t* p, size_t n) {
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) v |= uint64_t{p[i]} << (8 * i);
	return v;
}
uint64_t get(const Bytes& b, size_t off, size_t n) { return get(b.data() + off, n); }

uint8_t sum(const uint8_t* p, size_t n) {
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++) s = static_cast<uint8_t>(s + p[i]);
	return s;
}

// A table's header is right: signature, length, checksum, our ids.
void expect_table(const Bytes& t, const char* sig) {
	ASSERT_GE(t.size(), 36u);
	EXPECT_EQ(std::string(t.begin(), t.begin() + 4), sig);
	EXPECT_EQ(get(t, 4, 4), t.size()) << sig;
	EXPECT_EQ(sum(t.data(), t.size()), 0) << sig << " checksum";
	EXPECT_EQ(std::string(t.begin() + 10, t.begin() + 16), "BENCHR");
	EXPECT_EQ(std::string(t.begin() + 16, t.begin() + 24), std::string("BVMM") + sig);
}

// A PkgLength at `at`: the block's length (counting the PkgLength) and how
// many bytes the PkgLength took.
std::pair<size_t, size_t> pkg_length_at(const Bytes& b, size_t at) {
	size_t extra = b.at(at) >> 6;
	if (extra == 0) return {b[at] & 0x3f, 1};
	size_t len = b[at] & 0x0f;
	for (size_t i = 0; i < extra; i++) len |= size_t{b.at(at + 1 + i)} << (4 + 8 * i);
	return {len, extra + 1};
}

// What the DSDT says of one Device of \_SB: its name and, for a
// virtio-mmio device, _UID, base, length and GSI.
struct Decoded {
	std::string name, hid;
	uint64_t uid = ~0ull, base = 0, length = 0, gsi = 0;
};

// Finds `pattern` in [from, to) and returns the offset just after it.
size_t after(const Bytes& b, size_t from, size_t to, const Bytes& pattern) {
	for (size_t i = from; i + pattern.size() <= to; i++)
		if (std::equal(pattern.begin(), pattern.end(), b.begin() + static_cast<long>(i))) return i + pattern.size();
	ADD_FAILURE() << "pattern not found";
	return to;
}

// Walks Scope(_SB_) { Device ... Device } of an AML body.
std::vector<Decoded> decode_devices(const Bytes& aml) {
	std::vector<Decoded> out;
	EXPECT_EQ(aml.at(0), 0x10);  // ScopeOp
	auto [scope_len, scope_pl] = pkg_length_at(aml, 1);
	EXPECT_EQ(1 + scope_len, aml.size());
	auto seg = aml.begin() + 1 + static_cast<long>(scope_pl);
	EXPECT_EQ(std::string(seg, seg + 4), "_SB_");
	for (size_t at = 5 + scope_pl; at < aml.size();) {
		EXPECT_EQ(aml.at(at), 0x5b);
		EXPECT_EQ(aml.at(at + 1), 0x82);  // DeviceOp
		auto [len, pl] = pkg_length_at(aml, at + 2);
		size_t body = at + 2 + pl, end = at + 2 + len;
		Decoded d;
		d.name = std::string(aml.begin() + static_cast<long>(body), aml.begin() + static_cast<long>(body) + 4);
		if (d.name != "COM1") {
			size_t h = after(aml, body, end, {0x08, '_', 'H', 'I', 'D', 0x0d});
			d.hid = std::string(reinterpret_cast<const char*>(&aml[h]));
			size_t u = after(aml, body, end, {0x08, '_', 'U', 'I', 'D'});
			d.uid = aml[u] <= 1 ? aml[u] : aml[u] == 0x0a ? aml[u + 1] : ~0ull;
			size_t m = after(aml, body, end, {0x86, 0x09, 0x00, 0x01});
			d.base = get(&aml[m], 4);
			d.length = get(&aml[m + 4], 4);
			size_t g = after(aml, body, end, {0x89, 0x06, 0x00, 0x03, 0x01});
			d.gsi = get(&aml[g], 4);
		}
		out.push_back(d);
		at = end;
	}
	return out;
}

}  // namespace

TEST(Aml, PkgLengthAtItsBoundaries) {
	EXPECT_EQ(aml::pkg_length(0), (Bytes{0x01}));
	EXPECT_EQ(aml::pkg_length(62), (Bytes{0x3f}));
	EXPECT_EQ(aml::pkg_length(63), (Bytes{0x41, 0x04}));   // 65 = 0x41: 1 | 4 << 4
	EXPECT_EQ(aml::pkg_length(4093), (Bytes{0x4f, 0xff}));  // 4095, the most two bytes hold
	EXPECT_EQ(aml::pkg_length(4094), (Bytes{0x81, 0x00, 0x01}));  // 4097
	EXPECT_EQ(aml::pkg_length((1u << 20) - 4), (Bytes{0x8f, 0xff, 0xff}));
	EXPECT_EQ(aml::pkg_length((1u << 20) - 3), (Bytes{0xc1, 0x00, 0x00, 0x01}));
	EXPECT_NE(error_of([] { aml::pkg_length(1u << 28); }), "(no error)");
}

TEST(Aml, IntegersStringsAndNames) {
	EXPECT_EQ(aml::integer(0), (Bytes{0x00}));
	EXPECT_EQ(aml::integer(1), (Bytes{0x01}));
	EXPECT_EQ(aml::integer(2), (Bytes{0x0a, 0x02}));
	EXPECT_EQ(aml::integer(0x1234), (Bytes{0x0b, 0x34, 0x12}));
	EXPECT_EQ(aml::integer(0xd0000000), (Bytes{0x0c, 0x00, 0x00, 0x00, 0xd0}));
	EXPECT_EQ(aml::integer(1ull << 32), (Bytes{0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
	EXPECT_EQ(aml::string("A1"), (Bytes{0x0d, 'A', '1', 0}));
	EXPECT_EQ(aml::eisa_id("PNP0501"), (Bytes{0x0c, 0x41, 0xd0, 0x05, 0x01}));
	EXPECT_EQ(aml::name_string("\\_SB_"), (Bytes{'\\', '_', 'S', 'B', '_'}));
	EXPECT_EQ(aml::name_string("_SB_.V000"), (Bytes{0x2e, '_', 'S', 'B', '_', 'V', '0', '0', '0'}));
	EXPECT_EQ(aml::name_string("\\A___.B___.C___"),
	          (Bytes{'\\', 0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_'}));
	for (const char* bad : {"", "\\", "_SB", "_SB__", "0ABC", "_sb_", "_SB_.", "_SB_..V000", "A-BC"})
		EXPECT_NE(error_of([&] { aml::name_string(bad); }), "(no error)") << bad;
	EXPECT_NE(error_of([] { aml::string("a\nb"); }), "(no error)");
	for (const char* bad : {"PNP050", "pnp0501", "PNP05G1", "PNP05011"})
		EXPECT_NE(error_of([&] { aml::eisa_id(bad); }), "(no error)") << bad;
}

TEST(Aml, ResourceDescriptors) {
	EXPECT_EQ(aml::io(0x3f8, 8), (Bytes{0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08}));
	EXPECT_EQ(aml::memory32_fixed(true, 0xd0001000, 0x1000),
	          (Bytes{0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00}));
	EXPECT_EQ(aml::interrupt(13, true, false), (Bytes{0x89, 0x06, 0x00, 0x03, 0x01, 13, 0, 0, 0}));
	EXPECT_EQ(aml::interrupt(9, false, true), (Bytes{0x89, 0x06, 0x00, 0x05, 0x01, 9, 0, 0, 0}));
	// Buffer(size) { descriptors, EndTag with a zero checksum }.
	EXPECT_EQ(aml::resource_template(aml::io(0x60, 1)),
	          (Bytes{0x11, 0x0d, 0x0a, 0x0a, 0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01, 0x79, 0x00}));
}

TEST(AcpiTables, RsdpPointsToTheXsdtWithBothChecksums) {
	Bytes r = rsdp(0xe0300);
	ASSERT_EQ(r.size(), 36u);
	EXPECT_EQ(std::string(r.begin(), r.begin() + 8), "RSD PTR ");
	EXPECT_EQ(r[15], 2) << "revision";
	EXPECT_EQ(get(r, 16, 4), 0u) << "no RSDT";
	EXPECT_EQ(get(r, 20, 4), 36u);
	EXPECT_EQ(get(r, 24, 8), 0xe0300u);
	EXPECT_EQ(sum(r.data(), 20), 0) << "ACPI 1.0 checksum";
	EXPECT_EQ(sum(r.data(), 36), 0) << "extended checksum";
}

TEST(AcpiTables, XsdtListsItsTables) {
	Bytes x = xsdt({0xe0100, 0x123456789a});
	expect_table(x, "XSDT");
	ASSERT_EQ(x.size(), 36u + 16);
	EXPECT_EQ(get(x, 36, 8), 0xe0100u);
	EXPECT_EQ(get(x, 44, 8), 0x123456789au);
}

TEST(AcpiTables, FadtIsHardwareReducedWithTheI8042AsResetRegister) {
	Bytes f = fadt(0xe0040);
	expect_table(f, "FACP");
	ASSERT_EQ(f.size(), 276u);
	EXPECT_EQ(f[8], 6) << "revision";
	EXPECT_EQ(f[131], 5) << "minor revision";
	EXPECT_EQ(get(f, 40, 4), 0xe0040u) << "DSDT";
	EXPECT_EQ(get(f, 140, 8), 0xe0040u) << "X_DSDT";
	uint32_t flags = static_cast<uint32_t>(get(f, 112, 4));
	EXPECT_TRUE(flags & (1u << 20)) << "HW_REDUCED_ACPI";
	EXPECT_TRUE(flags & (1u << 10)) << "RESET_REG_SUP";
	EXPECT_EQ(get(f, 109, 2), 0x26u) << "8042, no VGA, no CMOS RTC";
	EXPECT_EQ(f[116], 1) << "reset register in system I/O";
	EXPECT_EQ(f[117], 8);
	EXPECT_EQ(get(f, 120, 8), 0x64u);
	EXPECT_EQ(f[128], 0xfe) << "the i8042's pulse-reset command";
	EXPECT_EQ(std::string(f.begin() + 268, f.end()), "BENCHVMM");
}

TEST(AcpiTables, MadtHasOneLocalApicPerVcpuAndTheIoApic) {
	for (uint32_t n : {1u, 2u, 32u}) {
		Bytes m = madt(n);
		expect_table(m, "APIC");
		EXPECT_EQ(get(m, 36, 4), boot::kLapicAddr);
		EXPECT_EQ(get(m, 40, 4), 0u) << "flags";
		uint32_t lapics = 0, ioapics = 0;
		for (size_t at = 44; at < m.size(); at += m[at + 1]) {
			ASSERT_GE(m[at + 1], 2);
			if (m[at] == 0) {
				EXPECT_EQ(m[at + 1], 8);
				EXPECT_EQ(m[at + 2], lapics) << "processor UID";
				EXPECT_EQ(m[at + 3], lapics) << "APIC id";
				EXPECT_EQ(get(m, at + 4, 4), 1u) << "enabled";
				lapics++;
			} else {
				ASSERT_EQ(m[at], 1);
				EXPECT_EQ(m[at + 1], 12);
				EXPECT_EQ(m[at + 2], n) << "the I/O APIC's id, as in the MP table";
				EXPECT_EQ(get(m, at + 4, 4), boot::kIoapicAddr);
				EXPECT_EQ(get(m, at + 8, 4), 0u) << "GSI base";
				ioapics++;
			}
		}
		EXPECT_EQ(lapics, n);
		EXPECT_EQ(ioapics, 1u);
		EXPECT_EQ(m.size(), 44 + 8 * n + 12);
	}
	EXPECT_EQ(error_of([] { madt(0); }), "ACPI: 0 vCPUs (1-32)");
	EXPECT_EQ(error_of([] { madt(33); }), "ACPI: 33 vCPUs (1-32)");
}

// The ASL, as iasl -d prints the table back:
//   Scope (_SB) {
//     Device (COM1) {
//       Name (_HID, EisaId ("PNP0501")) Name (_UID, Zero)
//       Name (_CRS, ResourceTemplate () { IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
//         Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) {4} })
//     }
//     Device (V000) {
//       Name (_HID, "LNRO0005") Name (_UID, Zero)
//       Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, 0xD0000000, 0x00001000)
//         Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) {5} })
//     }
//   }
TEST(AcpiTables, DsdtForOneDeviceIsWhatIaslCompiles) {
	const Bytes want = {
	    0x10, 0x45, 0x07, '_', 'S', 'B', '_',  // Scope, PkgLength 0x75
	    0x5b, 0x82, 0x31, 'C', 'O', 'M', '1',  // Device, PkgLength 0x31
	    0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01, 0x08, '_', 'U', 'I', 'D', 0x00,
	    0x08, '_', 'C', 'R', 'S', 0x11, 0x16, 0x0a, 0x13,  // Buffer of 0x13 bytes
	    0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00,
	    0x79, 0x00,
	    0x5b, 0x82, 0x3a, 'V', '0', '0', '0',  // Device, PkgLength 0x3a
	    0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
	    0x08, '_', 'U', 'I', 'D', 0x00, 0x08, '_', 'C', 'R', 'S', 0x11, 0x1a, 0x0a, 0x17,
	    0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00,
	    0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00, 0x79, 0x00};
	Bytes d = dsdt({{0xd0000000, 0x1000, 5}});
	expect_table(d, "DSDT");
	EXPECT_EQ(d[8], 2) << "revision 2: 64-bit integers";
	EXPECT_EQ(Bytes(d.begin() + 36, d.end()), want);
}

TEST(AcpiTables, DsdtForSeveralDevicesDecodesBack) {
	std::vector<MmioDevice> devs;
	for (uint32_t i = 0; i < 10; i++) devs.push_back({0xd0000000 + i * 0x1000, 0x1000, i < 7 ? 5 + i : 6 + i});
	Bytes d = dsdt(devs);
	expect_table(d, "DSDT");
	auto got = decode_devices(Bytes(d.begin() + 36, d.end()));
	ASSERT_EQ(got.size(), 11u);
	EXPECT_EQ(got[0].name, "COM1");
	for (size_t i = 0; i < devs.size(); i++) {
		const Decoded& g = got[i + 1];
		EXPECT_EQ(g.name, strprintf("V%03zu", i));
		EXPECT_EQ(g.hid, "LNRO0005");
		EXPECT_EQ(g.uid, i);
		EXPECT_EQ(g.base, devs[i].base);
		EXPECT_EQ(g.length, 0x1000u);
		EXPECT_EQ(g.gsi, devs[i].gsi);
	}
	// No devices: the serial port alone.
	Bytes none = dsdt({});
	EXPECT_EQ(decode_devices(Bytes(none.begin() + 36, none.end())).size(), 1u);
	EXPECT_EQ(error_of([] { dsdt({{0xfffff000, 0x2000, 5}}); }), "ACPI: virtio-mmio device at 0xfffff000 is above 4 GiB");
}

TEST(AcpiTables, WrittenBelowOneMiBFromTheRsdpOn) {
	for (uint32_t n : {1u, 32u}) {
		FakeMemory mem(64 << 20);
		write_tables(mem, n, {{0xd0000000, 0x1000, 5}, {0xd0001000, 0x1000, 6}});
		const uint8_t* r = mem.ptr(boot::kAcpiStart, 36);
		ASSERT_EQ(std::memcmp(r, "RSD PTR ", 8), 0);
		EXPECT_EQ(sum(r, 36), 0);
		// Follows a pointer to a table: its bytes, checked to lie below 1 MiB.
		auto table = [&](uint64_t at) {
			EXPECT_GE(at, boot::kAcpiStart + 36);
			uint64_t len = get(mem.ptr(at, 8) + 4, 4);
			EXPECT_LE(at + len, boot::kAcpiEnd);
			const uint8_t* p = mem.ptr(at, len);
			return Bytes(p, p + len);
		};
		Bytes x = table(get(r + 24, 8));
		expect_table(x, "XSDT");
		ASSERT_EQ(x.size(), 36u + 16);
		Bytes f = table(get(x, 36, 8)), m = table(get(x, 44, 8));
		expect_table(f, "FACP");
		expect_table(m, "APIC");
		EXPECT_EQ(m.size(), 44 + 8 * n + 12);
		Bytes d = table(get(f, 140, 8));
		expect_table(d, "DSDT");
		EXPECT_EQ(d, dsdt({{0xd0000000, 0x1000, 5}, {0xd0001000, 0x1000, 6}}));
	}
}
