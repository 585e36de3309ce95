// vsock_packet.hh: the virtio-vsock packet header and a bounds-checked view
// of a guest TX chain (header + payload), Firecracker's packet.rs in
// miniature. Everything in a TX packet is guest-controlled: a bad header is
// a parse error the device answers with a reset, never a crash.
#pragma once

#include <cstdint>
#include <string>
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

const char* op_name(uint16_t op);

}  // namespace bencher::vmm::virtio
