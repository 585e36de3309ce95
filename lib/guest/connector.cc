// connector.cc: the two ways bencher-init connects to a host port (see
// connector.hh); the control-socket form speaks lib/vsock/control.hh.
#include "guest/connector.hh"

#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hh"
#include "vsock/control.hh"

namespace bencher::guest {

UniqueFd Connector::connect(uint32_t port) {
	if (control_fd_ >= 0) return connect_control(port);
	return connect_vsock(port);
}

UniqueFd Connector::connect_vsock(uint32_t port) {
	UniqueFd s(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!s) fail_errno("vsock socket");
	sockaddr_vm a{};
	a.svm_family = AF_VSOCK;
	a.svm_cid = vsock::kHostCid;
	a.svm_port = port;
	int r;
	do {
		r = ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
	} while (r < 0 && errno == EINTR);
	if (r < 0) fail_errno(strprintf("connect to host port %u", port));
	return s;
}

UniqueFd Connector::connect_control(uint32_t port) {
	UniqueFd mine, theirs;
	vsock::stream_pair(mine, theirs);
	vsock::ControlMsg m;
	m.type = static_cast<uint16_t>(vsock::MsgType::guest_connect);
	// Distinct ids per process, so a workload's own attempts never collide
	// with init's.
	m.conn_id = (static_cast<uint64_t>(getpid()) << 32) | ++next_id_;
	m.host_port = port;
	m.guest_port = 49152 + static_cast<uint32_t>(next_id_);
	vsock::send_msg(control_fd_, m, theirs.get());
	theirs.reset();
	for (;;) {
		vsock::ControlMsg reply;
		UniqueFd fd;
		if (!vsock::recv_msg(control_fd_, reply, fd))
			fail(strprintf("connect to host port %u: control channel closed", port));
		if (reply.conn_id != m.conn_id) continue;
		if (reply.type == static_cast<uint16_t>(vsock::MsgType::accept)) return mine;
		fail(strprintf("connect to host port %u: refused", port));
	}
}

}  // namespace bencher::guest
