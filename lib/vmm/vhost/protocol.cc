// protocol.cc: encoding and reply checks of protocol.hh. All fields are
// little-endian on the wire, as on the x86-64 hosts we run on.
#include "vmm/vhost/protocol.hh"

#include <cstring>

#include "common/error.hh"

namespace bencher::vmm::vhost {

namespace {
void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t get32(const uint8_t* p) {
	uint32_t v;
	std::memcpy(&v, p, 4);
	return v;
}
}  // namespace

std::string request_name(uint32_t request) {
	switch (request) {
	case kGetFeatures: return "GET_FEATURES";
	case kSetFeatures: return "SET_FEATURES";
	case kSetOwner: return "SET_OWNER";
	case kSetMemTable: return "SET_MEM_TABLE";
	case kSetVringNum: return "SET_VRING_NUM";
	case kSetVringAddr: return "SET_VRING_ADDR";
	case kSetVringBase: return "SET_VRING_BASE";
	case kGetVringBase: return "GET_VRING_BASE";
	case kSetVringKick: return "SET_VRING_KICK";
	case kSetVringCall: return "SET_VRING_CALL";
	case kGetProtocolFeatures: return "GET_PROTOCOL_FEATURES";
	case kSetProtocolFeatures: return "SET_PROTOCOL_FEATURES";
	case kGetQueueNum: return "GET_QUEUE_NUM";
	case kSetVringEnable: return "SET_VRING_ENABLE";
	}
	return strprintf("request %u", request);
}

uint32_t Message::request() const { return bytes.size() >= 4 ? get32(bytes.data()) : 0; }
uint32_t Message::flags() const { return bytes.size() >= 8 ? get32(bytes.data() + 4) : 0; }

Message encode(uint32_t request, bool need_reply, const void* payload, size_t len) {
	if (len > kMaxPayload) fail(strprintf("vhost-user %s: payload of %zu bytes", request_name(request).c_str(), len));
	Message m;
	m.bytes.resize(kHeaderSize + len);
	put32(m.bytes.data(), request);
	put32(m.bytes.data() + 4, kVersion | (need_reply ? kFlagNeedReply : 0));
	put32(m.bytes.data() + 8, static_cast<uint32_t>(len));
	if (len) std::memcpy(m.bytes.data() + kHeaderSize, payload, len);
	return m;
}

Message encode_u64(uint32_t request, bool need_reply, uint64_t v) {
	uint8_t p[8];
	put64(p, v);
	return encode(request, need_reply, p, sizeof p);
}

Message encode_state(uint32_t request, bool need_reply, uint32_t index, uint32_t num) {
	uint8_t p[8];
	put32(p, index);
	put32(p + 4, num);
	return encode(request, need_reply, p, sizeof p);
}

// struct vhost_vring_addr: index, flags, then desc, used, avail and log
// user addresses (no logging: flags 0, log 0).
Message encode_vring_addr(bool need_reply, const VringAddr& a) {
	uint8_t p[40] = {};
	put32(p, a.index);
	put64(p + 8, a.desc);
	put64(p + 16, a.used);
	put64(p + 24, a.avail);
	return encode(kSetVringAddr, need_reply, p, sizeof p);
}

// u32 nregions, u32 padding, then the regions: only as many as are sent,
// the size the backend reads (as QEMU's vhost_user_set_mem_table).
Message encode_mem_table(bool need_reply, const std::vector<MemRegion>& regions) {
	if (regions.empty() || regions.size() > kMaxRegions)
		fail(strprintf("vhost-user SET_MEM_TABLE: %zu regions", regions.size()));
	uint8_t p[kMaxPayload] = {};
	put32(p, static_cast<uint32_t>(regions.size()));
	uint8_t* r = p + 8;
	for (const auto& m : regions) {
		put64(r, m.guest_phys_addr);
		put64(r + 8, m.memory_size);
		put64(r + 16, m.userspace_addr);
		put64(r + 24, m.mmap_offset);
		r += 32;
	}
	return encode(kSetMemTable, need_reply, p, static_cast<size_t>(r - p));
}

Header decode_header(const uint8_t* buf, size_t len, uint32_t expected_request, uint32_t expected_size) {
	const std::string what = "vhost-user " + request_name(expected_request) + " reply";
	if (len < kHeaderSize) fail(strprintf("%s: header of %zu bytes", what.c_str(), len));
	Header h{get32(buf), get32(buf + 4), get32(buf + 8)};
	if ((h.flags & kFlagVersionMask) != kVersion)
		fail(strprintf("%s: protocol version %u", what.c_str(), h.flags & kFlagVersionMask));
	if (!(h.flags & kFlagReply)) fail(what + ": reply flag not set");
	if (h.request != expected_request) fail(what + ": answers " + request_name(h.request));
	if (h.size != expected_size)
		fail(strprintf("%s: payload of %u bytes, expected %u", what.c_str(), h.size, expected_size));
	return h;
}

uint64_t decode_u64(const uint8_t* payload, size_t len) {
	if (len != 8) fail(strprintf("vhost-user reply: u64 payload of %zu bytes", len));
	uint64_t v;
	std::memcpy(&v, payload, 8);
	return v;
}

uint32_t decode_state(const uint8_t* payload, size_t len, uint32_t index) {
	if (len != 8) fail(strprintf("vhost-user reply: vring state of %zu bytes", len));
	if (get32(payload) != index)
		fail(strprintf("vhost-user reply: vring state of queue %u, expected %u", get32(payload), index));
	return get32(payload + 4);
}

}  // namespace bencher::vmm::vhost
