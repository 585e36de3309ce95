// Fuzz target: bencher-vmm's split virtqueue and the requests read from it.
// The input is guest memory (descriptor table, avail ring, buffers) as a
// hostile guest would lay it out; every chain the queue accepts goes
// through the block device (copy-on-write over a memfd) and the vsock TX
// packet parser.
// fuzz-sources: lib/vmm/virtio/queue.cc lib/vmm/virtio/block.cc lib/vmm/virtio/mmio.cc lib/vmm/virtio/vsock/packet.cc lib/common/error.cc lib/common/fd.cc
// fuzz-pkgs:
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "../unit/vmm/fake_memory.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "vmm/virtio/block.hh"
#include "vmm/virtio/queue.hh"
#include "vmm/virtio/vsock/packet.hh"

using namespace bencher;
using namespace bencher::vmm;
using namespace bencher::vmm::virtio;

namespace {

Disk& disk() {
	static Disk* d = [] {
		int fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 64 * 512) < 0) __builtin_trap();
		return new Disk(UniqueFd(fd), Disk::Mode::cow);
	}();
	return *d;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	if (size < 2) return 0;
	constexpr size_t kMem = 64 * 1024;
	test::FakeMemory mem(kMem);
	mem.write(0, data + 2, std::min(size - 2, kMem));
	Queue q;
	q.size = static_cast<uint16_t>(1u << (data[0] % 9));  // 1..256
	q.desc_addr = 0x1000;
	q.avail_addr = 0x2000;
	q.used_addr = 0x3000;
	q.ready = true;
	Block blk(disk());
	Chain c;
	TxPacket p;
	for (int n = 0; n < 1024; n++) {
		auto r = q.pop(mem, c);
		if (r == Queue::Pop::empty) break;
		uint32_t len = 0;
		if (r == Queue::Pop::ok) {
			// What the queue accepts lies inside guest memory.
			for (const auto& d : c.descs)
				if (!mem.contains(d.addr, d.len)) __builtin_trap();
			if (c.descs.size() > q.size) __builtin_trap();
			if (data[1] & 1)
				len = blk.handle(mem, c);
			else if (parse_tx(mem, c, 3, 2, p).empty() && p.hdr.len > kMaxPktPayload)
				__builtin_trap();
		}
		q.push_used(mem, c.head, len);
	}
	return 0;
}
