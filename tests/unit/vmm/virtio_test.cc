// Unit tests for lib/vmm/virtio: the split virtqueue against hostile
// descriptor tables (loops, out-of-range addresses, oversize lengths,
// chains longer than the queue, a corrupted avail index), vsock TX packet
// parsing with bad headers, and the block device on a real file in its
// three modes.
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "common/fd.hh"
#include "fake_memory.hh"
#include "vmm/virtio/block.hh"
#include "vmm/virtio/queue.hh"
#include "vmm/virtio/vsock/packet.hh"

using namespace bencher;
using namespace bencher::vmm;
using namespace bencher::vmm::virtio;
using bencher::vmm::test::FakeMemory;

namespace {
constexpr uint64_t kDesc = 0x1000, kAvail = 0x2000, kUsed = 0x3000, kData = 0x10000;
constexpr uint16_t F_NEXT = 1, F_WRITE = 2, F_INDIRECT = 4;

// A driver's side of one queue in fake memory.
struct Driver {
	FakeMemory mem{1 << 20};
	Queue q;
	uint16_t avail = 0;
	explicit Driver(uint16_t size = 8) {
		q.size = size;
		q.desc_addr = kDesc;
		q.avail_addr = kAvail;
		q.used_addr = kUsed;
		q.ready = true;
	}
	void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
		uint64_t a = kDesc + 16ull * i;
		mem.store(a, addr);
		mem.store(a + 8, len);
		mem.store(a + 12, flags);
		mem.store(a + 14, next);
	}
	void publish(uint16_t head) {
		mem.store<uint16_t>(kAvail + 4 + 2 * (avail % q.size), head);
		avail++;
		mem.store<uint16_t>(kAvail + 2, avail);
	}
	uint16_t used_idx() { return mem.load<uint16_t>(kUsed + 2); }
	uint32_t used_len(uint16_t i) { return mem.load<uint32_t>(kUsed + 4 + 8 * i + 4); }
};
}  // namespace

TEST(Queue, PopsAValidChain) {
	Driver d;
	d.desc(0, kData, 16, F_NEXT, 1);
	d.desc(1, kData + 16, 100, F_WRITE);
	d.publish(0);
	Chain c;
	ASSERT_EQ(d.q.pop(d.mem, c), Queue::Pop::ok);
	EXPECT_EQ(c.head, 0);
	ASSERT_EQ(c.descs.size(), 2u);
	EXPECT_EQ(c.readable_bytes(), 16u);
	EXPECT_EQ(c.writable_bytes(), 100u);
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::empty);
	d.q.push_used(d.mem, 0, 42);
	EXPECT_EQ(d.used_idx(), 1);
	EXPECT_EQ(d.used_len(0), 42u);
}

TEST(Queue, RejectsALoop) {
	Driver d;
	d.desc(0, kData, 8, F_NEXT, 1);
	d.desc(1, kData, 8, F_NEXT, 0);
	d.publish(0);
	Chain c;
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::bad);
	EXPECT_EQ(c.head, 0);
}

TEST(Queue, RejectsASelfLoopAndChainsLongerThanTheQueue) {
	Driver d(4);
	d.desc(0, kData, 8, F_NEXT, 0);
	d.publish(0);
	Chain c;
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::bad);
	EXPECT_LE(c.descs.size(), 4u);
}

TEST(Queue, RejectsAddressesOutsideMemoryAndOversizeLengths) {
	Driver d;
	d.desc(0, (1 << 20) - 4, 8, 0);  // runs off the end
	d.desc(1, ~0ull - 3, 8, 0);      // wraps around
	d.desc(2, kData, 0xffffffff, 0);  // longer than memory
	d.desc(3, 1ull << 40, 1, 0);      // nowhere
	for (uint16_t i = 0; i < 4; i++) d.publish(i);
	Chain c;
	for (int i = 0; i < 4; i++) EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::bad) << i;
}

TEST(Queue, RejectsNextOutOfRangeIndirectAndReadableAfterWritable) {
	Driver d;
	d.desc(0, kData, 8, F_NEXT, 200);
	d.desc(1, kData, 16, F_INDIRECT);
	d.desc(2, kData, 8, F_WRITE | F_NEXT, 3);
	d.desc(3, kData, 8, 0);
	d.publish(0);
	d.publish(1);
	d.publish(2);
	Chain c;
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::bad);
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::bad);
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::bad);
}

TEST(Queue, AHeadOutOfRangeOrAnAvailIndexJumpBreaksTheQueue) {
	Driver d;
	d.publish(99);
	Chain c;
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::empty);
	EXPECT_TRUE(d.q.broken());
	Driver e;
	e.mem.store<uint16_t>(kAvail + 2, 1000);  // more entries than the ring has
	EXPECT_EQ(e.q.pop(e.mem, c), Queue::Pop::empty);
	EXPECT_TRUE(e.q.broken());
}

TEST(Queue, RingsOutsideMemoryOrBadSizesAreInvalid) {
	Driver d;
	EXPECT_TRUE(d.q.valid(d.mem));
	d.q.used_addr = (1 << 20) - 8;
	EXPECT_FALSE(d.q.valid(d.mem));
	d.q.used_addr = kUsed;
	d.q.size = 6;  // not a power of two
	EXPECT_FALSE(d.q.valid(d.mem));
	d.q.size = 512;  // above our maximum
	EXPECT_FALSE(d.q.valid(d.mem));
	d.q.size = 8;
	d.q.desc_addr = kDesc + 1;  // misaligned
	EXPECT_FALSE(d.q.valid(d.mem));
	Chain c;
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::empty);
}

TEST(ChainIo, ReadsAndWritesAcrossDescriptors) {
	Driver d;
	d.desc(0, kData, 3, F_NEXT, 1);
	d.desc(1, kData + 100, 5, F_NEXT, 2);
	d.desc(2, kData + 200, 4, F_WRITE);
	std::memcpy(d.mem.ptr(kData, 3), "abc", 3);
	std::memcpy(d.mem.ptr(kData + 100, 5), "defgh", 5);
	d.publish(0);
	Chain c;
	ASSERT_EQ(d.q.pop(d.mem, c), Queue::Pop::ok);
	char buf[16] = {};
	EXPECT_EQ(chain_read(d.mem, c, 1, buf, 16), 7u);
	EXPECT_STREQ(buf, "bcdefgh");
	EXPECT_EQ(chain_write(d.mem, c, 0, "WXYZ!", 5), 4u);  // bounded by the chain
	EXPECT_EQ(std::memcmp(d.mem.ptr(kData + 200, 4), "WXYZ", 4), 0);
}

namespace {
VsockHdr tx_hdr(uint16_t op, uint32_t len = 0) {
	VsockHdr h;
	h.src_cid = 3;
	h.dst_cid = 2;
	h.src_port = 1234;
	h.dst_port = 5000;
	h.type = kVsockTypeStream;
	h.op = op;
	h.len = len;
	return h;
}

std::string parse(Driver& d, const VsockHdr& h, uint32_t payload_avail, uint32_t hdr_len = sizeof(VsockHdr),
                  bool writable = false) {
	d.mem.write(kData, &h, sizeof h);
	d.desc(0, kData, hdr_len, static_cast<uint16_t>(payload_avail || writable ? F_NEXT : 0), 1);
	d.desc(1, kData + 0x1000, payload_avail, writable ? F_WRITE : 0);
	d.publish(0);
	Chain c;
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::ok);
	TxPacket p;
	return parse_tx(d.mem, c, 3, 2, p);
}
}  // namespace

TEST(VsockPacket, AcceptsWellFormedPackets) {
	Driver d;
	EXPECT_EQ(parse(d, tx_hdr(kOpRequest), 0), "");
	Driver e;
	EXPECT_EQ(parse(e, tx_hdr(kOpRw, 100), 100), "");
}

TEST(VsockPacket, RejectsBadHeaders) {
	{
		Driver d;
		EXPECT_NE(parse(d, tx_hdr(kOpRequest), 0, 20).find("truncated"), std::string::npos);
	}
	{
		Driver d;
		auto h = tx_hdr(kOpRequest);
		h.type = 2;  // seqpacket
		EXPECT_NE(parse(d, h, 0).find("type"), std::string::npos);
	}
	{
		Driver d;
		auto h = tx_hdr(kOpRequest);
		h.src_cid = 7;  // spoofed source
		EXPECT_NE(parse(d, h, 0).find("source CID"), std::string::npos);
	}
	{
		Driver d;
		auto h = tx_hdr(kOpRequest);
		h.dst_cid = 3;
		EXPECT_NE(parse(d, h, 0).find("destination"), std::string::npos);
	}
	{
		Driver d;
		EXPECT_NE(parse(d, tx_hdr(99), 0).find("unknown op"), std::string::npos);
	}
	{
		Driver d;
		EXPECT_NE(parse(d, tx_hdr(kOpInvalid), 0).find("unknown op"), std::string::npos);
	}
	{
		Driver d;
		EXPECT_NE(parse(d, tx_hdr(kOpRw, kMaxPktPayload + 1), kMaxPktPayload + 1).find("exceeds"), std::string::npos);
	}
	{
		Driver d;
		EXPECT_NE(parse(d, tx_hdr(kOpRw, 100), 50).find("payload truncated"), std::string::npos);
	}
	{
		Driver d;
		EXPECT_NE(parse(d, tx_hdr(kOpShutdown, 10), 10).find("with a payload"), std::string::npos);
	}
	{
		Driver d;
		EXPECT_NE(parse(d, tx_hdr(kOpRw, 0), 64, sizeof(VsockHdr), true).find("writable"), std::string::npos);
	}
}

namespace {
struct DiskFile {
	std::string path;
	explicit DiskFile(size_t sectors) {
		char tmpl[] = "/tmp/vmm-disk-XXXXXX";
		int fd = mkstemp(tmpl);
		path = tmpl;
		std::vector<char> data(sectors * 512);
		for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>(i / 512);
		EXPECT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
		close(fd);
	}
	~DiskFile() { unlink(path.c_str()); }
	std::string contents() const { return read_file(path, 1 << 20); }
};

// One request: header, data (readable for OUT, writable for IN), status.
uint8_t request(Driver& d, Block& b, uint32_t type, uint64_t sector, uint32_t len, bool data_writable) {
	virtio_blk_outhdr h{};
	h.type = type;
	h.sector = sector;
	d.mem.write(kData, &h, sizeof h);
	d.desc(0, kData, sizeof h, F_NEXT, 1);
	d.desc(1, kData + 0x1000, len, static_cast<uint16_t>(F_NEXT | (data_writable ? F_WRITE : 0)), 2);
	d.desc(2, kData + 0x100, 1, F_WRITE);
	d.mem.store<uint8_t>(kData + 0x100, 0xee);
	d.publish(0);
	Chain c;
	EXPECT_EQ(d.q.pop(d.mem, c), Queue::Pop::ok);
	b.handle(d.mem, c);
	return d.mem.load<uint8_t>(kData + 0x100);
}
}  // namespace

TEST(Block, ReadsAndWritesTheFile) {
	DiskFile f(16);
	Disk disk(open_file(f.path, O_RDWR), Disk::Mode::rw);
	EXPECT_EQ(disk.sectors(), 16u);
	Block b(disk);
	Driver d;
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_IN, 3, 1024, true), VIRTIO_BLK_S_OK);
	EXPECT_EQ(d.mem.load<uint8_t>(kData + 0x1000), 3);
	EXPECT_EQ(d.mem.load<uint8_t>(kData + 0x1000 + 512), 4);
	std::memset(d.mem.ptr(kData + 0x1000, 512), 'W', 512);
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_OUT, 5, 512, false), VIRTIO_BLK_S_OK);
	EXPECT_EQ(f.contents()[5 * 512], 'W');
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
}

TEST(Block, RejectsOutOfRangeAndPartialSectors) {
	DiskFile f(16);
	Disk disk(open_file(f.path, O_RDWR), Disk::Mode::rw);
	Block b(disk);
	Driver d;
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_IN, 16, 512, true), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_IN, 15, 1024, true), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_IN, ~0ull, 512, true), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_OUT, 0, 100, false), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(request(d, b, 77, 0, 512, true), VIRTIO_BLK_S_UNSUPP);
}

TEST(Block, ReadOnlyRefusesWrites) {
	DiskFile f(16);
	std::string before = f.contents();
	Disk disk(open_file(f.path, O_RDONLY), Disk::Mode::ro);
	Block b(disk);
	EXPECT_TRUE(b.features() & (1ull << VIRTIO_BLK_F_RO));
	Driver d;
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_OUT, 0, 512, false), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
	EXPECT_EQ(f.contents(), before);
}

TEST(Block, CopyOnWriteKeepsTheFileAndReadsBackItsWrites) {
	DiskFile f(16);
	std::string before = f.contents();
	Disk disk(open_file(f.path, O_RDONLY), Disk::Mode::cow);
	Block b(disk);
	Driver d;
	std::memset(d.mem.ptr(kData + 0x1000, 1024), 'C', 1024);
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_OUT, 4, 1024, false), VIRTIO_BLK_S_OK);
	// Read sectors 3..6: file, overlay, overlay, file.
	EXPECT_EQ(request(d, b, VIRTIO_BLK_T_IN, 3, 2048, true), VIRTIO_BLK_S_OK);
	const uint8_t* p = d.mem.ptr(kData + 0x1000, 2048);
	EXPECT_EQ(p[0], 3);
	EXPECT_EQ(p[511], 3);
	EXPECT_EQ(p[512], 'C');
	EXPECT_EQ(p[1535], 'C');
	EXPECT_EQ(p[1536], 6);
	EXPECT_EQ(f.contents(), before);
}

TEST(Queue, DescribesBothSidesForAStuckRunsReport) {
	Driver d;
	EXPECT_EQ(Queue().describe(d.mem), "not ready");
	d.desc(0, kData, 16, F_WRITE);
	d.publish(0);
	d.publish(0);
	d.mem.store<uint16_t>(kAvail, 1);  // the driver asks for no interrupts
	Chain c;
	ASSERT_EQ(d.q.pop(d.mem, c), Queue::Pop::ok);
	d.q.push_used(d.mem, c.head, 16);
	// Two made available, one taken and given back: the device is behind.
	EXPECT_EQ(d.q.describe(d.mem), "avail 2 taken 1 flags 0x1, used 1 given 1 flags 0x0");
}
