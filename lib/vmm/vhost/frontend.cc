// frontend.cc: the requests of frontend.hh over the socket. Deadlines use
// SO_RCVTIMEO on each read rather than poll(), so the sandboxed VMM needs no
// syscall beyond the sendmsg, recvmsg and setsockopt it already allows.
#include "vmm/vhost/frontend.hh"

#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "common/error.hh"

namespace bencher::vmm::vhost {

namespace {
constexpr uint64_t kFeatureVersion1 = 1ull << 32;

uint64_t now_ns() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void set_timeout(int fd, int opt, uint64_t ns) {
	timeval tv{static_cast<time_t>(ns / 1000000000ull), static_cast<suseconds_t>(ns % 1000000000ull / 1000)};
	if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;  // 0 would mean no timeout
	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) < 0) fail_errno("vhost-user: setsockopt");
}
}  // namespace

Frontend::Frontend(UniqueFd sock, std::string name, int timeout_ms)
    : sock_(std::move(sock)), name_(std::move(name)), timeout_ms_(timeout_ms) {
	set_timeout(sock_.get(), SO_SNDTIMEO, static_cast<uint64_t>(timeout_ms_) * 1000000ull);
}

void Frontend::send(const Message& m, const int* fds, size_t nfds) {
	const std::string what = name_ + ": vhost-user " + request_name(m.request());
	if (nfds > kMaxRegions) fail(what + ": too many fds");
	alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxRegions)] = {};
	size_t off = 0;
	while (off < m.bytes.size()) {
		iovec iov{const_cast<uint8_t*>(m.bytes.data() + off), m.bytes.size() - off};
		msghdr msg{};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (nfds && off == 0) {  // the fds travel with the first byte
			msg.msg_control = ctl;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cmsghdr* c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		ssize_t n = sendmsg(sock_.get(), &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			fail(strprintf("%s: backend did not read within %d ms", what.c_str(), timeout_ms_));
		if (n < 0) fail_errno(what);
		off += static_cast<size_t>(n);
	}
}

void Frontend::recv_exact(uint8_t* buf, size_t len, uint64_t deadline_ns, uint32_t request) {
	const std::string what = name_ + ": vhost-user " + request_name(request) + " reply";
	size_t got = 0;
	while (got < len) {
		uint64_t now = now_ns();
		if (now >= deadline_ns) fail(strprintf("%s: no answer within %d ms", what.c_str(), timeout_ms_));
		set_timeout(sock_.get(), SO_RCVTIMEO, deadline_ns - now);
		// No control buffer: fds a backend sends unasked are closed by the kernel.
		iovec iov{buf + got, len - got};
		msghdr msg{};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		ssize_t n = recvmsg(sock_.get(), &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
		if (n < 0) fail_errno(what);
		if (n == 0) fail(what + ": the backend closed the connection");
		got += static_cast<size_t>(n);
	}
}

void Frontend::recv_reply(uint32_t request, uint32_t size, uint8_t* out) {
	uint64_t deadline = now_ns() + static_cast<uint64_t>(timeout_ms_) * 1000000ull;
	uint8_t hdr[kHeaderSize];
	recv_exact(hdr, sizeof hdr, deadline, request);
	try {
		decode_header(hdr, sizeof hdr, request, size);
	} catch (const Error& e) {
		fail(name_ + ": " + e.what());
	}
	recv_exact(out, size, deadline, request);
}

void Frontend::set(const Message& m, const int* fds, size_t nfds) {
	send(m, fds, nfds);
	if (!(m.flags() & kFlagNeedReply)) return;
	uint8_t p[8];
	recv_reply(m.request(), sizeof p, p);
	if (uint64_t status = decode_u64(p, sizeof p); status != 0)
		fail(strprintf("%s: vhost-user %s: the backend refused it (status %llu)", name_.c_str(),
		               request_name(m.request()).c_str(), (unsigned long long)status));
}

uint64_t Frontend::get_u64(uint32_t request) {
	send(encode(request, false, nullptr, 0));
	uint8_t p[8];
	recv_reply(request, sizeof p, p);
	return decode_u64(p, sizeof p);
}

void Frontend::handshake(uint16_t queues) {
	send(encode(kSetOwner, false, nullptr, 0));
	features_ = get_u64(kGetFeatures);
	if (!(features_ & kFeatureVersion1)) fail(name_ + ": the vhost-user backend does not offer VIRTIO_F_VERSION_1");
	if (features_ & kFeatureProtocolFeatures) {
		uint64_t offered = get_u64(kGetProtocolFeatures);
		uint64_t want = offered & (kProtocolReplyAck | kProtocolMq);
		send(encode_u64(kSetProtocolFeatures, false, want));
		protocol_ = want;
	}
	if (protocol_ & kProtocolMq) {
		uint64_t n = get_u64(kGetQueueNum);
		if (n < queues)
			fail(strprintf("%s: the vhost-user backend serves %llu queues, the device has %u", name_.c_str(),
			               (unsigned long long)n, queues));
	}
}

void Frontend::set_features(uint64_t driver_features) {
	uint64_t f = driver_features & features_;
	if (features_ & kFeatureProtocolFeatures) f |= kFeatureProtocolFeatures;
	set(encode_u64(kSetFeatures, ack(), f));
}

void Frontend::set_mem_table(const std::vector<MemRegion>& regions, const std::vector<int>& fds) {
	if (fds.size() != regions.size()) fail(name_ + ": vhost-user SET_MEM_TABLE: one fd per region");
	set(encode_mem_table(ack(), regions), fds.data(), fds.size());
}

// QEMU's order (vhost_virtqueue_start): size, base, addresses, then the
// eventfds; with protocol features a ring starts disabled until enabled.
void Frontend::start_ring(const Ring& r) {
	set(encode_state(kSetVringNum, ack(), r.index, r.size));
	set(encode_state(kSetVringBase, ack(), r.index, 0));
	VringAddr a = r.addr;
	a.index = r.index;
	set(encode_vring_addr(ack(), a));
	set(encode_u64(kSetVringKick, ack(), r.index), &r.kick_fd, 1);
	set(encode_u64(kSetVringCall, ack(), r.index), &r.call_fd, 1);
	if (features_ & kFeatureProtocolFeatures) set(encode_state(kSetVringEnable, ack(), r.index, 1));
}

uint32_t Frontend::stop_ring(uint32_t index) {
	send(encode_state(kGetVringBase, false, index, 0));
	uint8_t p[8];
	recv_reply(kGetVringBase, sizeof p, p);
	try {
		return decode_state(p, sizeof p, index);
	} catch (const Error& e) {
		fail(name_ + ": " + e.what());
	}
}

}  // namespace bencher::vmm::vhost
