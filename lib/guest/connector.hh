// connector.hh: how bencher-init reaches a host port. In the guest that is
// AF_VSOCK to CID 2; in --test-mode it is a socketpair handed over the
// lib/vsock control socket, as bencher-vmm would hand the guest's connection
// to collect-results, so the same code runs in unit tests and Bats suites.
#pragma once

#include <cstdint>

#include "common/fd.hh"

namespace bencher::guest {

class Connector {
public:
	// control_fd < 0: AF_VSOCK; otherwise the control socket (test mode).
	explicit Connector(int control_fd) : control_fd_(control_fd) {}
	// A connected stream to host port `port`; throws when refused.
	UniqueFd connect(uint32_t port);

private:
	UniqueFd connect_vsock(uint32_t port);
	UniqueFd connect_control(uint32_t port);

	int control_fd_;
	uint64_t next_id_ = 0;
};

}  // namespace bencher::guest
