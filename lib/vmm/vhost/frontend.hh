// frontend.hh: the VMM's end of one vhost-user connection (QEMU's
// hw/virtio/vhost-user.c, reduced to what a virtio-fs backend needs). The
// backend is another process: every reply is read with a bound on its size
// and a deadline, so a backend that hangs, lies or hangs up makes a call
// throw, never blocks the VMM for good or reads past a buffer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/fd.hh"
#include "vmm/vhost/protocol.hh"

namespace bencher::vmm::vhost {

class Frontend {
public:
	static constexpr int kDefaultTimeoutMs = 5000;
	// Takes the connected socket; `name` prefixes errors ("virtio-fs share").
	Frontend(UniqueFd sock, std::string name, int timeout_ms = kDefaultTimeoutMs);
	int fd() const { return sock_.get(); }
	const std::string& name() const { return name_; }

	// SET_OWNER, GET_FEATURES and, if the backend has them, the protocol
	// features we use (REPLY_ACK, MQ) and GET_QUEUE_NUM, which must cover
	// `queues`. Throws if the backend lacks VIRTIO_F_VERSION_1.
	void handshake(uint16_t queues);
	uint64_t features() const { return features_; }  // the backend's virtio features
	uint64_t protocol_features() const { return protocol_; }

	// The device's start (QEMU's vhost_dev_start): the features the driver
	// accepted, guest memory, then each ring.
	void set_features(uint64_t driver_features);
	void set_mem_table(const std::vector<MemRegion>& regions, const std::vector<int>& fds);
	struct Ring {
		uint32_t index = 0;
		uint16_t size = 0;
		VringAddr addr;
		int kick_fd = -1, call_fd = -1;
	};
	void start_ring(const Ring& r);
	// Stops a ring (GET_VRING_BASE); returns the backend's next avail index.
	uint32_t stop_ring(uint32_t index);

private:
	// Whether SET_* requests ask for the backend's status (REPLY_ACK).
	bool ack() const { return protocol_ & kProtocolReplyAck; }
	void send(const Message& m, const int* fds = nullptr, size_t nfds = 0);
	// A SET_* request: waits for the backend's status when it asks for one.
	void set(const Message& m, const int* fds = nullptr, size_t nfds = 0);
	uint64_t get_u64(uint32_t request);
	// Reads the reply to `request`, whose payload is `size` bytes, into out.
	void recv_reply(uint32_t request, uint32_t size, uint8_t* out);
	void recv_exact(uint8_t* buf, size_t len, uint64_t deadline_ns, uint32_t request);

	UniqueFd sock_;
	std::string name_;
	int timeout_ms_;
	uint64_t features_ = 0, protocol_ = 0;
};

}  // namespace bencher::vmm::vhost
