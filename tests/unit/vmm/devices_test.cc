// Unit tests for lib/vmm/devices and the bus: the 16550A as the 8250 driver
// probes it, the console's bound and panic detection, the i8042's replies
// and reset, the boot timer's marks, the bus's ranges, and the
// vCPU-independent config parsing.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"
#include "vmm/bus.hh"
#include "vmm/config.hh"
#include "vmm/devices/boot_timer.hh"
#include "vmm/devices/i8042.hh"
#include "vmm/devices/serial.hh"

using namespace bencher;
using namespace bencher::vmm;

namespace {
std::string drain(int fd) {
	std::string s;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, n);
	return s;
}
}  // namespace

TEST(Serial, ScratchLoopbackAndFifoProbe) {
	int irq_level = 0;
	Serial s(nullptr, [&](int l) { irq_level = l; });
	uint8_t v;
	s.write(7, 0xa5);
	s.read(7, &v);
	EXPECT_EQ(v, 0xa5);
	s.write(4, 0x1a);  // loopback, OUT2, RTS
	s.read(6, &v);
	EXPECT_EQ(v & 0xf0, 0x90);
	s.write(4, 0);
	s.write(2, 0x01);  // enable FIFOs
	s.read(2, &v);
	EXPECT_EQ(v & 0xc0, 0xc0);  // a 16550A
	s.read(5, &v);
	EXPECT_EQ(v & 0x60, 0x60);  // transmitter empty
	// THRI: raised when enabled with the THR empty, cleared by reading IIR.
	s.write(1, 0x02);
	EXPECT_EQ(irq_level, 1);
	s.read(2, &v);
	EXPECT_EQ(v & 0x0f, 0x02);
	EXPECT_EQ(irq_level, 0);
}

TEST(Console, BoundedAndSeesPanics) {
	int p[2];
	ASSERT_EQ(pipe2(p, O_NONBLOCK), 0);
	UniqueFd r(p[0]), w(p[1]);
	Console c(w.get(), 10);
	Serial s(&c, [](int) {});
	for (char ch : std::string("hello\nKernel panic - not syncing: x\n")) s.write(0, static_cast<uint8_t>(ch));
	c.flush();
	EXPECT_EQ(drain(r.get()), "hello\nKern");  // at most 10 bytes
	EXPECT_EQ(c.bytes(), 36u);
	EXPECT_TRUE(c.saw_panic());
	Console quiet(w.get(), 100);
	for (char ch : std::string("Kernel pani Kernel panic - not")) quiet.put(static_cast<uint8_t>(ch));
	EXPECT_FALSE(quiet.saw_panic());
}

TEST(I8042, AnswersTheProbeAndResets) {
	int resets = 0, irqs = 0;
	I8042 k([&](uint32_t) { irqs++; }, [&] { resets++; });
	k.write(I8042::kCommand, 0xaa);  // self test
	EXPECT_TRUE(k.read(I8042::kCommand) & 1);
	EXPECT_EQ(k.read(I8042::kData), 0x55);
	EXPECT_FALSE(k.read(I8042::kCommand) & 1);
	k.write(I8042::kCommand, 0x20);  // read CTR
	uint8_t ctr = k.read(I8042::kData);
	k.write(I8042::kCommand, 0x60);
	k.write(I8042::kData, ctr & ~1);
	k.write(I8042::kCommand, 0x20);
	EXPECT_EQ(k.read(I8042::kData), ctr & ~1);
	k.write(I8042::kCommand, 0xd3);  // aux loopback echoes, marked as aux data
	k.write(I8042::kData, 0x5a);
	EXPECT_TRUE(k.read(I8042::kCommand) & 0x20);
	EXPECT_EQ(k.read(I8042::kData), 0x5a);
	k.write(I8042::kData, 0xf2);  // keyboard: get ID
	EXPECT_EQ(k.read(I8042::kData), 0xfa);
	EXPECT_EQ(k.read(I8042::kData), 0xab);
	EXPECT_EQ(resets, 0);
	k.write(I8042::kCommand, 0xfe);
	EXPECT_EQ(resets, 1);
	// A guest flooding commands without reading stays bounded.
	for (int i = 0; i < 10000; i++) k.write(I8042::kCommand, 0xaa);
}

namespace {
// Records what reaches it, by range and offset.
struct Probe : BusDevice {
	uint64_t base = 0, offset = 0;
	size_t len = 0;
	uint8_t value = 0;
	void bus_read(uint64_t b, uint64_t o, uint8_t* data, size_t n) override {
		base = b, offset = o, len = n;
		data[0] = value;
	}
	void bus_write(uint64_t b, uint64_t o, const uint8_t* data, size_t n) override {
		base = b, offset = o, len = n;
		value = data[0];
	}
};
}  // namespace

TEST(Bus, RoutesByRangeWithTheOffsetInIt) {
	Bus bus("port I/O");
	Probe a, b;
	bus.add(0x3f8, 8, a);
	bus.add(0x60, 1, b);
	bus.add(0x64, 1, b);
	uint8_t v = 0x42;
	EXPECT_TRUE(bus.write(0x3fd, &v, 1));
	EXPECT_EQ(a.base, 0x3f8u);
	EXPECT_EQ(a.offset, 5u);
	EXPECT_EQ(a.value, 0x42);
	b.value = 7;
	EXPECT_TRUE(bus.read(0x64, &v, 2));
	EXPECT_EQ(v, 7);
	EXPECT_EQ(b.base, 0x64u) << "a device on two ranges learns which";
	EXPECT_EQ(b.len, 2u);
	for (uint64_t nobody : {0x0ull, 0x3f7ull, 0x400ull, 0x61ull, 0x63ull, 0x65ull})
		EXPECT_FALSE(bus.read(nobody, &v, 1)) << nobody;
}

TEST(Bus, RefusesOverlapsAndEmptyRanges) {
	Bus bus("MMIO");
	Probe d;
	bus.add(0xd0000000, 0x1000, d);
	bus.add(0xd0001000, 0x1000, d);  // adjacent is fine
	EXPECT_THROW(bus.add(0xd0000fff, 2, d), bencher::Error);
	EXPECT_THROW(bus.add(0xcffff000, 0x1001, d), bencher::Error);
	EXPECT_THROW(bus.add(0xd0000800, 0x10, d), bencher::Error);
	EXPECT_THROW(bus.add(0xcf000000, 0x2000000, d), bencher::Error) << "one that covers others";
	EXPECT_THROW(bus.add(0x1000, 0, d), bencher::Error);
	EXPECT_THROW(bus.add(~0ull - 1, 4, d), bencher::Error);
	bus.add(0xcffff000, 0x1000, d);
	uint8_t v;
	EXPECT_TRUE(bus.read(0xcfffffff, &v, 1));
}

namespace {
uint64_t fake_now = 0;
uint64_t fake_clock() { return fake_now; }
}  // namespace

TEST(BootTimer, TheFirstInitMarkCountsAndShutdownIsRemembered) {
	BootTimer t(fake_clock);
	EXPECT_FALSE(t.init_ns());
	uint8_t v = 0;
	t.bus_read(BootTimer::kPort, 0, &v, 1);
	EXPECT_EQ(v, 0xff) << "write-only";
	fake_now = 1234;
	t.mark(0x11);
	EXPECT_FALSE(t.init_ns()) << "not a mark";
	t.mark(BootTimer::kInitStarted);
	fake_now = 9999;
	t.mark(BootTimer::kInitStarted);
	EXPECT_EQ(t.init_ns(), 1234u);
	EXPECT_FALSE(t.shutdown_requested());
	uint8_t mark = BootTimer::kShutdownRequested;
	t.bus_write(BootTimer::kPort, 0, &mark, 1);
	EXPECT_TRUE(t.shutdown_requested());
}

TEST(Config, CommandLineOrderAndReplace) {
	VmConfig o;
	o.cmdline_append = "init=/x -- a b";
	EXPECT_EQ(build_cmdline(o, "virtio_mmio.device=4K@0xd0000000:5"),
	          std::string("virtio_mmio.device=4K@0xd0000000:5 ") + kDefaultCmdline + " init=/x -- a b");
	o.verbose = true;
	EXPECT_EQ(build_cmdline(o, "").find("quiet"), std::string::npos);
	o.cmdline_replace = "console=ttyS0";
	o.cmdline_append.reset();
	EXPECT_EQ(build_cmdline(o, "D"), "D console=ttyS0");
	// For a kernel with ACPI the devices are in the DSDT alone.
	o.no_cmdline_devices = true;
	EXPECT_EQ(build_cmdline(o, "D"), "console=ttyS0");
}

TEST(Config, JsonFillsOnlyWhatTheCommandLineLeft) {
	Options o;
	o.vcpus = 2;
	merge_json(o, R"({"kernel": "/k", "vcpus": 4, "memory": 256, "rootfs_mode": "cow", "timeout": 0})", "vm.json");
	EXPECT_EQ(o.kernel.path, "/k");
	EXPECT_EQ(*o.vcpus, 2u);
	EXPECT_EQ(*o.memory_mib, 256u);
	EXPECT_EQ(*o.timeout_s, 0u);
	VmConfig c = finalize(o);
	EXPECT_EQ(c.rootfs_mode, RootfsMode::cow);
	EXPECT_FALSE(c.no_cmdline_devices);
	merge_json(o, R"({"no_cmdline_devices": true})", "vm.json");
	EXPECT_TRUE(finalize(o).no_cmdline_devices);
	Options bad;
	EXPECT_THROW(merge_json(bad, R"({"kernel": "/k", "kernel_fd": 3})", "vm.json"), Error);
	EXPECT_THROW(merge_json(bad, R"({"colour": 1})", "vm.json"), Error);
	EXPECT_THROW(merge_json(bad, R"({"vcpus": 0})", "vm.json"), Error);
	Options none;
	EXPECT_THROW(finalize(none), Error);
}
