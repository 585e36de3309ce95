// stream.hh: the host end of one vsock connection, as the connection state
// machine (connection.hh) sees it. In the VMM it is one end of a unix stream
// socketpair whose other end went to the host over the control socket; unit
// tests plug in a fake (Firecracker's TestStream), so credit, shutdown and
// reset run without sockets.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include "common/fd.hh"

namespace bencher::vmm::virtio {

class HostStream {
public:
	virtual ~HostStream() = default;
	// Never block. Each returns the bytes moved, 0 at end of file (read),
	// or -1 with errno set (EAGAIN: not now).
	virtual ssize_t write(const iovec* iov, size_t n) = 0;
	virtual ssize_t read(const iovec* iov, size_t n) = 0;
	// The guest will send no more: the host reads end of file.
	virtual void shutdown_write() = 0;
	// What the event loop watches for the stream's readiness.
	virtual int fd() const = 0;
};

// A nonblocking unix stream socket.
class SocketStream : public HostStream {
public:
	// Makes fd nonblocking; with sndbuf > 0, asks for a send buffer of that
	// size too. Throws when the socket refuses either.
	explicit SocketStream(UniqueFd fd, int sndbuf = 0);
	ssize_t write(const iovec* iov, size_t n) override;
	ssize_t read(const iovec* iov, size_t n) override;
	void shutdown_write() override;
	int fd() const override { return fd_.get(); }

private:
	UniqueFd fd_;
};

}  // namespace bencher::vmm::virtio
