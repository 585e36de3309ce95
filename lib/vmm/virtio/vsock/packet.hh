// packet.hh: the virtio-vsock packet header, a bounds-checked view of a
// guest TX chain (header + payload) and of an RX chain being filled,
// Firecracker's packet.rs in miniature. Everything in a TX packet is guest-controlled: a bad header is
// a parse error the device answers with a reset, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vmm/virtio/queue.hh"

namespace bencher::vmm::virtio {

#pragma pack(push, 1)
struct VsockHdr {
	uint64_t src_cid = 0, dst_cid = 0;
	uint32_t src_port = 0, dst_port = 0;
	uint32_t len = 0;
	uint16_t type = 0, op = 0;
	uint32_t flags = 0, buf_alloc = 0, fwd_cnt = 0;
};
#pragma pack(pop)
static_assert(sizeof(VsockHdr) == 44);

enum VsockOp : uint16_t {
	kOpInvalid = 0,
	kOpRequest = 1,
	kOpResponse = 2,
	kOpRst = 3,
	kOpShutdown = 4,
	kOpRw = 5,
	kOpCreditUpdate = 6,
	kOpCreditRequest = 7,
};
constexpr uint16_t kVsockTypeStream = 1;
constexpr uint32_t kShutdownRcv = 1, kShutdownSend = 2;
constexpr uint32_t kMaxPktPayload = 64 * 1024;
// Our receive window per connection: the buf_alloc of every packet we send.
constexpr uint32_t kBufAlloc = 1024 * 1024;

// A connection's ports: (host port, guest port).
using VsockKey = std::pair<uint32_t, uint32_t>;

// A header from the host (CID 2) to the guest, on k, with our window and no
// fwd_cnt (a connection fills that in).
VsockHdr host_hdr(VsockKey k, uint64_t guest_cid, uint16_t op, uint32_t flags = 0);

// A parsed TX packet: the header copied out, the payload as host iovecs
// into guest memory (valid until the chain is returned). `header` says the
// chain held a whole header, so a packet that fails later checks can still
// be answered by what it names (never by a header left from the last one).
struct TxPacket {
	VsockHdr hdr;
	bool header = false;
	std::vector<iovec> payload;
};

// Parses a guest TX chain. Checks the header is complete, the chain has no
// device-writable buffers, the type is stream, the addresses are guest CID
// -> host CID, the op is known, and the payload length is within bounds and
// present in the chain (RW only). Returns an empty string or what is wrong.
std::string parse_tx(const GuestMemory& mem, const Chain& c, uint64_t guest_cid, uint64_t host_cid, TxPacket& out);

// A guest RX chain being filled: the header goes first, the payload after it.
struct RxBuffer {
	const GuestMemory& mem;
	const Chain& chain;
	uint64_t room() const { return chain.writable_bytes() - sizeof(VsockHdr); }
	// The host iovecs of the first len payload bytes, in place of out's.
	void payload(uint64_t len, std::vector<iovec>& out) const {
		out.clear();
		chain_iovecs(mem, chain, true, sizeof(VsockHdr), len, out);
	}
};

const char* op_name(uint16_t op);

}  // namespace bencher::vmm::virtio
