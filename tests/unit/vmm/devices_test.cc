// Unit tests for lib/vmm/devices: the 16550A as the 8250 driver probes it,
// the console's bound and panic detection, the i8042's replies and reset,
// and the vCPU-independent config parsing.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"
#include "vmm/config.hh"
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

TEST(Config, CommandLineOrderAndReplace) {
	Options o;
	o.cmdline_append = "init=/x -- a b";
	EXPECT_EQ(build_cmdline(o, "virtio_mmio.device=4K@0xd0000000:5"),
	          std::string("virtio_mmio.device=4K@0xd0000000:5 ") + kDefaultCmdline + " init=/x -- a b");
	o.verbose = true;
	EXPECT_EQ(build_cmdline(o, "").find("quiet"), std::string::npos);
	o.cmdline_replace = "console=ttyS0";
	o.cmdline_append.reset();
	EXPECT_EQ(build_cmdline(o, "D"), "D console=ttyS0");
}

TEST(Config, JsonFillsOnlyWhatTheCommandLineLeft) {
	Options o;
	o.vcpus = 2;
	merge_json(o, R"({"kernel": "/k", "vcpus": 4, "memory": 256, "rootfs_mode": "cow", "timeout": 0})", "vm.json");
	EXPECT_EQ(o.kernel.path, "/k");
	EXPECT_EQ(*o.vcpus, 2u);
	EXPECT_EQ(*o.memory_mib, 256u);
	EXPECT_EQ(*o.timeout_s, 0u);
	finalize(o);
	EXPECT_EQ(*o.rootfs_mode, "cow");
	Options bad;
	EXPECT_THROW(merge_json(bad, R"({"kernel": "/k", "kernel_fd": 3})", "vm.json"), Error);
	EXPECT_THROW(merge_json(bad, R"({"colour": 1})", "vm.json"), Error);
	EXPECT_THROW(merge_json(bad, R"({"vcpus": 0})", "vm.json"), Error);
	Options none;
	EXPECT_THROW(finalize(none), Error);
}
