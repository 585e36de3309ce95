// sink.hh: where bencher-init's results go. The workload runner and the
// files sender speak only to a ResultSink, by result port (stdout, stderr,
// exit record, files); the vsock sink hashes and sends each port to the host
// and ends with the HMAC, the serial sink frames them as console records,
// and unit tests plug in a fake that keeps what it is given.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/fd.hh"
#include "guest/connector.hh"
#include "results/protocol.hh"
#include "results/serial.hh"

namespace bencher::guest {

class ResultSink {
public:
	virtual ~ResultSink() = default;
	// `port` is one of vsock::kPortStdout, kPortStderr, kPortExitCode,
	// kPortFiles. Empty data sends nothing.
	virtual void send(uint32_t port, std::string_view data) = 0;
	// Ends one port's stream (the host sees EOF).
	virtual void close(uint32_t port) = 0;
	// Sends the HMAC (vsock) or the end record (serial) and waits until the
	// host has everything.
	virtual void finish() = 0;
};

// The result ports over vsock, every byte hashed for the HMAC. All ports are
// connected by the constructor, before any workload runs, so the workload
// cannot take one of them first.
class VsockSink : public ResultSink {
public:
	// `config_wire` is the run config as received (the HMAC covers it).
	// corrupt_port != 0 (test mode) flips the first byte sent on that port
	// after hashing it, so the host's check can be seen to fail.
	VsockSink(Connector& c, std::string key, std::string_view config_wire, uint32_t corrupt_port);
	~VsockSink() override;
	VsockSink(const VsockSink&) = delete;
	VsockSink& operator=(const VsockSink&) = delete;

	void send(uint32_t port, std::string_view data) override;
	void close(uint32_t port) override;
	void finish() override;

private:
	results::ResultDigest digest_;
	std::string key_;
	uint32_t corrupt_port_;
	std::map<uint32_t, UniqueFd> fds_;
};

// The serial fallback's records (results/serial.hh) on a console fd.
class SerialSink : public ResultSink {
public:
	explicit SerialSink(int fd);
	void send(uint32_t port, std::string_view data) override;
	void close(uint32_t) override {}
	void finish() override;

private:
	int fd_;
	results::SerialWriter w_;
};

}  // namespace bencher::guest
