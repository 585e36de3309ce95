// stream.cc: the socket behind stream.hh's SocketStream.
#include "vmm/virtio/vsock/stream.hh"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hh"

namespace bencher::vmm::virtio {

SocketStream::SocketStream(UniqueFd fd, int sndbuf) : fd_(std::move(fd)) {
	int fl = fcntl(fd_.get(), F_GETFL);
	if (fl < 0 || fcntl(fd_.get(), F_SETFL, fl | O_NONBLOCK) < 0) fail_errno("vsock stream: O_NONBLOCK");
	if (sndbuf > 0 && setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) < 0)
		fail_errno("vsock stream: SO_SNDBUF");
}

ssize_t SocketStream::write(const iovec* iov, size_t n) {
	msghdr mh{};
	mh.msg_iov = const_cast<iovec*>(iov);
	mh.msg_iovlen = n;
	ssize_t r;
	do r = ::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t SocketStream::read(const iovec* iov, size_t n) { return ::readv(fd_.get(), iov, static_cast<int>(n)); }

void SocketStream::shutdown_write() {
	// The host may have closed its end already; it reads nothing more either way.
	::shutdown(fd_.get(), SHUT_WR);
}

}  // namespace bencher::vmm::virtio
