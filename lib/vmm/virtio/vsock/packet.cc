// packet.cc: header building and validation for packet.hh.
#include "vmm/virtio/vsock/packet.hh"

#include "common/error.hh"
#include "vsock/control.hh"

namespace bencher::vmm::virtio {

const char* op_name(uint16_t op) {
	static const char* const names[] = {"invalid", "request", "response", "rst",
	                                    "shutdown", "rw", "credit_update", "credit_request"};
	return op < 8 ? names[op] : "unknown";
}

VsockHdr host_hdr(VsockKey k, uint64_t guest_cid, uint16_t op, uint32_t flags) {
	VsockHdr h;
	h.src_cid = bencher::vsock::kHostCid;
	h.dst_cid = guest_cid;
	h.src_port = k.first;
	h.dst_port = k.second;
	h.type = kVsockTypeStream;
	h.op = op;
	h.flags = flags;
	h.buf_alloc = kBufAlloc;
	return h;
}

std::string parse_tx(const GuestMemory& mem, const Chain& c, uint64_t guest_cid, uint64_t host_cid, TxPacket& out) {
	out.payload.clear();
	out.header = chain_read(mem, c, 0, &out.hdr, sizeof out.hdr) == sizeof out.hdr;
	if (!out.header) return "header truncated";
	if (c.writable_bytes() != 0) return "TX chain has device-writable buffers";
	const VsockHdr& h = out.hdr;
	if (h.type != kVsockTypeStream) return strprintf("type %u is not stream", h.type);
	if (h.src_cid != guest_cid) return strprintf("source CID %llu is not the guest's", (unsigned long long)h.src_cid);
	if (h.dst_cid != host_cid) return strprintf("destination CID %llu is not the host", (unsigned long long)h.dst_cid);
	if (h.op == kOpInvalid || h.op > kOpCreditRequest) return strprintf("unknown op %u", h.op);
	if (h.op != kOpRw) {
		if (h.len != 0) return strprintf("%s with a payload", op_name(h.op));
		return "";
	}
	if (h.len > kMaxPktPayload) return strprintf("payload of %u bytes exceeds %u", h.len, kMaxPktPayload);
	if (c.readable_bytes() - sizeof h < h.len) return "payload truncated";
	chain_iovecs(mem, c, false, sizeof h, h.len, out.payload);
	return "";
}

}  // namespace bencher::vmm::virtio
