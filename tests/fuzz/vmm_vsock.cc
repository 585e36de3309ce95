// Fuzz target: bencher-vmm's vsock device, muxer and connection state
// machine. The input is a stream of guest TX packets (a 44-byte header, then
// up to 512 payload bytes); the host side accepts every connection and
// writes to every stream it gets, and the guest posts RX buffers. Nothing
// may crash, leak connections past the bound, or hang.
// fuzz-sources: lib/vmm/virtio/queue.cc lib/vmm/virtio/mmio.cc lib/vmm/virtio/vsock/packet.cc lib/vmm/virtio/vsock/stream.cc lib/vmm/virtio/vsock/connection.cc lib/vmm/virtio/vsock/muxer.cc lib/vmm/virtio/vsock/device.cc lib/vmm/event_loop.cc lib/vsock/control.cc lib/common/error.cc lib/common/fd.cc lib/common/log.cc
// fuzz-pkgs:
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "../unit/vmm/fake_memory.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "vmm/event_loop.hh"
#include "vmm/virtio/mmio.hh"
#include "vmm/virtio/vsock/device.hh"
#include "vsock/control.hh"

using namespace bencher;
using namespace bencher::vmm;
using namespace bencher::vmm::virtio;

namespace {

constexpr uint16_t kQ = 16;
uint64_t base(int q) { return 0x1000 + q * 0x3000; }

void reg(Transport& t, uint64_t off, uint32_t v) { t.write(off, reinterpret_cast<uint8_t*>(&v), 4); }

struct Ring {
	test::FakeMemory& mem;
	int q;
	uint16_t avail = 0;
	void post(uint64_t addr, uint32_t len, bool write) {
		uint16_t i = avail % kQ;
		uint64_t d = base(q) + 16 * i;
		mem.store<uint64_t>(d, addr);
		mem.store<uint32_t>(d + 8, len);
		mem.store<uint16_t>(d + 12, write ? 2 : 0);
		mem.store<uint16_t>(base(q) + 0x1000 + 4 + 2 * i, i);
		avail++;
		mem.store<uint16_t>(base(q) + 0x1000 + 2, avail);
	}
	uint16_t used() { return mem.load<uint16_t>(base(q) + 0x2000 + 2); }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	test::FakeMemory mem(1 << 20);
	EventLoop loop;
	UniqueFd vmm_end, host;
	vsock::control_pair(vmm_end, host);
	Vsock dev(loop, std::move(vmm_end), 3);
	Transport t(dev, mem, [] {});
	dev.attach(&t);
	reg(t, 0x24, 1);
	reg(t, 0x20, 1);  // VERSION_1
	for (int q = 0; q < 3; q++) {
		reg(t, 0x30, q);
		reg(t, 0x38, kQ);
		reg(t, 0x80, static_cast<uint32_t>(base(q)));
		reg(t, 0x90, static_cast<uint32_t>(base(q) + 0x1000));
		reg(t, 0xa0, static_cast<uint32_t>(base(q) + 0x2000));
		reg(t, 0x44, 1);
	}
	reg(t, 0x70, 0xf);
	Ring rx{mem, 0}, tx{mem, 1};
	std::vector<UniqueFd> streams;
	uint64_t buf = 0x20000;
	size_t off = 0;
	for (int round = 0; off + sizeof(VsockHdr) <= size && round < 64; round++) {
		VsockHdr h;
		std::memcpy(&h, data + off, sizeof h);
		off += sizeof h;
		h.src_cid = 3;  // mostly valid headers, so the state machine is reached
		h.dst_cid = 2;
		h.type = 1;
		uint32_t plen = std::min<uint32_t>(h.len, 512);
		plen = std::min<uint32_t>(plen, static_cast<uint32_t>(size - off));
		if (h.op == kOpRw) h.len = plen;
		uint64_t a = buf + (round % 32) * 0x1000;
		mem.write(a, &h, sizeof h);
		mem.write(a + sizeof h, data + off, plen);
		off += plen;
		tx.post(a, static_cast<uint32_t>(sizeof h + plen), false);
		rx.post(0x80000 + (round % kQ) * 0x1000, 0x1000, true);
		t.notify(1);
		// The host accepts everything, and answers on every stream.
		for (;;) {
			vsock::ControlMsg m;
			UniqueFd fd;
			char peek;
			if (recv(host.get(), &peek, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) break;
			if (!vsock::recv_msg(host.get(), m, fd)) break;
			if (m.type == uint16_t(vsock::MsgType::guest_connect)) {
				m.type = uint16_t(vsock::MsgType::accept);
				vsock::send_msg(host.get(), m);
				if (write(fd.get(), "hello", 5) < 0) __builtin_trap();
				streams.push_back(std::move(fd));
			}
		}
		loop.run_once(0);
		t.notify(0);
		if (dev.connections() > Vsock::kMaxConns) __builtin_trap();
	}
	return 0;
}
