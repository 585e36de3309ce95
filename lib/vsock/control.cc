// control.cc: SCM_RIGHTS framing of the vsock control protocol.
#include "vsock/control.hh"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/error.hh"

namespace bencher::vsock {

const char* msg_type_name(uint16_t type) {
	switch (static_cast<MsgType>(type)) {
	case MsgType::guest_connect: return "GUEST_CONNECT";
	case MsgType::accept: return "ACCEPT";
	case MsgType::refuse: return "REFUSE";
	case MsgType::host_connect: return "HOST_CONNECT";
	case MsgType::connected: return "CONNECTED";
	case MsgType::connect_failed: return "CONNECT_FAILED";
	}
	return "unknown";
}

bool msg_carries_fd(uint16_t type) {
	return type == static_cast<uint16_t>(MsgType::guest_connect) ||
	       type == static_cast<uint16_t>(MsgType::host_connect);
}

void send_msg(int sock, const ControlMsg& msg, int fd) {
	iovec iov{const_cast<ControlMsg*>(&msg), sizeof msg};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
	if (fd >= 0) {
		std::memset(cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		cmsghdr* c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	for (;;) {
		ssize_t n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) fail_errno("vsock control: send");
		if (static_cast<size_t>(n) != sizeof msg) fail("vsock control: short send");
		return;
	}
}

bool recv_msg(int sock, ControlMsg& msg, UniqueFd& fd) {
	fd.reset();
	// Room for a few fds, so a peer that sends too many cannot leak them:
	// every fd received is owned before anything is checked.
	constexpr int kMaxFds = 4;
	alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)];
	unsigned char buf[sizeof(ControlMsg) + 1];
	iovec iov{buf, sizeof buf};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof cbuf;
	ssize_t n;
	do {
		n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) fail_errno("vsock control: receive");

	UniqueFd fds[kMaxFds];
	int nfds = 0;
	for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count && nfds < kMaxFds; i++) {
			int f;
			std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			fds[nfds++].reset(f);
		}
	}
	if (n == 0 && nfds == 0) return false;
	if (mh.msg_flags & MSG_CTRUNC) fail("vsock control: too many fds in one message");
	if (mh.msg_flags & MSG_TRUNC || static_cast<size_t>(n) != sizeof msg)
		fail(strprintf("vsock control: message of %zd bytes, expected %zu", n, sizeof msg));
	std::memcpy(&msg, buf, sizeof msg);
	if (msg.magic != kControlMagic) fail("vsock control: bad magic");
	if (msg.version != kControlVersion) fail(strprintf("vsock control: unsupported version %u", msg.version));
	if (msg.type < 1 || msg.type > 6) fail(strprintf("vsock control: unknown message type %u", msg.type));
	if (nfds > 1) fail("vsock control: more than one fd in a message");
	if (msg_carries_fd(msg.type) && nfds != 1)
		fail(strprintf("vsock control: %s without its fd", msg_type_name(msg.type)));
	if (!msg_carries_fd(msg.type) && nfds != 0)
		fail(strprintf("vsock control: %s with an unexpected fd", msg_type_name(msg.type)));
	if (nfds == 1) fd = std::move(fds[0]);
	return true;
}

void control_pair(UniqueFd& a, UniqueFd& b) {
	int sv[2];
	if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) fail_errno("socketpair");
	a.reset(sv[0]);
	b.reset(sv[1]);
}

void stream_pair(UniqueFd& a, UniqueFd& b) {
	int sv[2];
	if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) fail_errno("socketpair");
	a.reset(sv[0]);
	b.reset(sv[1]);
}

}  // namespace bencher::vsock
