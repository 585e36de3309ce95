// receipt.hh: how bencher-init gets its run config and the sink its results
// go to. Normally the config arrives over vsock port 5004 with the HMAC key,
// and the result ports are opened at once; without vsock (or with --serial)
// it is read from a file in the image and results go to the console. The
// key lives only in the vsock sink's memory: never on disk, and wiped from
// the config before the workload runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "guest/connector.hh"
#include "guest/sink.hh"
#include "results/protocol.hh"

namespace bencher::guest {

constexpr const char* kFallbackConfig = "/bencher/run.cfg";

struct ChannelOptions {
	bool serial = false;                  // skip vsock: the serial fallback at once
	std::string config_file = kFallbackConfig;  // the serial fallback's config
	bool remove_config_file = false;      // in the guest: the workload has no use for it
	uint32_t corrupt_port = 0;            // test mode: see VsockSink
	int console_fd = 1;                   // the serial fallback's records
};

struct Channel {
	results::RunConfig cfg;  // hmac_key already wiped
	std::unique_ptr<ResultSink> sink;
};

// Receives the run config and opens the results channel. A refused or
// failed vsock connection falls back to the serial console; a config that
// arrives but is malformed, or has no key, is an error.
Channel open_channel(Connector& c, const ChannelOptions& o);

}  // namespace bencher::guest
