// sink.cc: the vsock and serial result sinks of sink.hh.
#include "guest/sink.hh"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/error.hh"
#include "common/log.hh"
#include "vsock/control.hh"

namespace bencher::guest {

namespace {

constexpr int kAckTimeoutMs = 10000;

std::string port_name(uint32_t port) { return strprintf("host port %u", port); }

}  // namespace

VsockSink::VsockSink(Connector& c, std::string key, std::string_view config_wire, uint32_t corrupt_port)
    : key_(std::move(key)), corrupt_port_(corrupt_port) {
	digest_.add(vsock::kPortConfig, config_wire);
	for (uint32_t p : {vsock::kPortStdout, vsock::kPortStderr, vsock::kPortExitCode, vsock::kPortHmac, vsock::kPortFiles})
		fds_[p] = c.connect(p);
}

VsockSink::~VsockSink() { explicit_bzero(key_.data(), key_.size()); }

void VsockSink::send(uint32_t port, std::string_view data) {
	if (data.empty()) return;
	digest_.add(port, data);
	if (port == corrupt_port_) {
		corrupt_port_ = 0;
		std::string bad(data);
		bad[0] = static_cast<char>(bad[0] ^ 0x01);
		write_all(fds_.at(port).get(), bad, port_name(port));
		return;
	}
	write_all(fds_.at(port).get(), data, port_name(port));
}

void VsockSink::close(uint32_t port) { shutdown(fds_.at(port).get(), SHUT_WR); }

void VsockSink::finish() {
	std::string line = digest_.hmac_hex(key_) + "\n";
	explicit_bzero(key_.data(), key_.size());
	int fd = fds_.at(vsock::kPortHmac).get();
	write_all(fd, line, "hmac");
	shutdown(fd, SHUT_WR);
	// Wait for the host's "ok" (or its close): only then is nothing of ours
	// still in flight, and powering off loses nothing.
	pollfd p{fd, POLLIN, 0};
	int r;
	do {
		r = poll(&p, 1, kAckTimeoutMs);
	} while (r < 0 && errno == EINTR);
	if (r == 0) BLOG_WARN("no acknowledgement from the host after %d s", kAckTimeoutMs / 1000);
	fds_.clear();
}

SerialSink::SerialSink(int fd) : fd_(fd), w_([this](std::string_view rec) { write_all(fd_, rec, "console"); }) {
	w_.record('B', "v1");
}

void SerialSink::send(uint32_t port, std::string_view data) {
	if (data.empty()) return;
	char t = port == vsock::kPortStdout     ? 'O'
		 : port == vsock::kPortStderr   ? 'E'
		 : port == vsock::kPortExitCode ? 'X'
						: 'F';
	w_.record(t, data);
}

void SerialSink::finish() { w_.record('Z', ""); }

}  // namespace bencher::guest
