// protocol.hh: the vhost-user wire format (QEMU docs/interop/vhost-user.rst),
// only the frontend's part that a virtio-fs backend such as virtiofsd needs.
// Encoding is plain; decode_reply() is the one parser of what a backend
// sends, bounded and checked, since the backend is another process we do
// not trust to be well behaved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bencher::vmm::vhost {

enum Request : uint32_t {
	kGetFeatures = 1,
	kSetFeatures = 2,
	kSetOwner = 3,
	kSetMemTable = 5,
	kSetVringNum = 8,
	kSetVringAddr = 9,
	kSetVringBase = 10,
	kGetVringBase = 11,
	kSetVringKick = 12,
	kSetVringCall = 13,
	kGetProtocolFeatures = 15,
	kSetProtocolFeatures = 16,
	kGetQueueNum = 17,
	kSetVringEnable = 18,
};

std::string request_name(uint32_t request);

constexpr uint32_t kVersion = 0x1;
constexpr uint32_t kFlagVersionMask = 0x3;
constexpr uint32_t kFlagReply = 1u << 2;
constexpr uint32_t kFlagNeedReply = 1u << 3;
constexpr size_t kHeaderSize = 12;
// The largest payload we send (a memory table of 8 regions) or accept.
constexpr size_t kMaxPayload = 8 + 8 * 32;
constexpr size_t kMaxRegions = 8;

// Virtio feature bit 30: the backend speaks the protocol-feature extension.
constexpr uint64_t kFeatureProtocolFeatures = 1ull << 30;
// Protocol features (GET/SET_PROTOCOL_FEATURES).
constexpr uint64_t kProtocolMq = 1ull << 0;
constexpr uint64_t kProtocolReplyAck = 1ull << 3;

// SET_VRING_KICK/CALL payload: bits 0-7 the queue, this bit: no fd follows.
constexpr uint64_t kVringNoFd = 1ull << 8;

struct MemRegion {
	uint64_t guest_phys_addr = 0;
	uint64_t memory_size = 0;
	uint64_t userspace_addr = 0;  // where the frontend maps it
	uint64_t mmap_offset = 0;     // offset in the region's fd
};

// The frontend's user addresses of one split ring (SET_VRING_ADDR).
struct VringAddr {
	uint32_t index = 0;
	uint64_t desc = 0, used = 0, avail = 0;
};

// One encoded message: header and payload, ready for one sendmsg.
struct Message {
	std::vector<uint8_t> bytes;
	uint32_t request() const;
	uint32_t flags() const;
};

Message encode(uint32_t request, bool need_reply, const void* payload, size_t len);
Message encode_u64(uint32_t request, bool need_reply, uint64_t v);
Message encode_state(uint32_t request, bool need_reply, uint32_t index, uint32_t num);
Message encode_vring_addr(bool need_reply, const VringAddr& a);
Message encode_mem_table(bool need_reply, const std::vector<MemRegion>& regions);

struct Header {
	uint32_t request = 0, flags = 0, size = 0;
};

// Checks a reply's header against the request it answers and the payload
// size that request's reply has (8 for all we send). Throws a message
// naming what is wrong: version, missing reply flag, another request,
// a size other than expected.
Header decode_header(const uint8_t* buf, size_t len, uint32_t expected_request, uint32_t expected_size);
// The u64 payload of a reply (GET_FEATURES, GET_PROTOCOL_FEATURES,
// GET_QUEUE_NUM, a REPLY_ACK status).
uint64_t decode_u64(const uint8_t* payload, size_t len);
// A vring-state payload's num field, checking that it names `index`.
uint32_t decode_state(const uint8_t* payload, size_t len, uint32_t index);

}  // namespace bencher::vmm::vhost
