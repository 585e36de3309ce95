// init.hh: bencher-init's whole run, as init/main.cc calls it after parsing
// its command line: guest setup, the config receipt, the workload, then the
// rest of the results (files, exit record, HMAC) in the order collect-results
// expects them. See bencher-init(8).
#pragma once

#include <cstdint>
#include <string>

#include "guest/sink.hh"
#include "guest/workload.hh"
#include "results/protocol.hh"

namespace bencher::guest {

struct InitOptions {
	bool test_mode = false;    // an ordinary process: no mounts, no reboot
	int control_fd = -1;       // test mode: the lib/vsock control socket
	bool serial = false;       // the serial fallback at once
	std::string config_file;   // the serial fallback's config ("" for the default)
	uint32_t corrupt_port = 0; // test mode: flip a byte on this port
	uint32_t connect_port = 0; // --connect: copy stdin to this host port
};

// The run: returns init's exit status (PID 1 powers off afterwards).
int init_main(const InitOptions& o);

// Runs the workload and sends every result to `sink`: stdout and stderr as
// produced, then the files, the exit record and finally the HMAC or end.
void run_and_report(const results::RunConfig& cfg, const WorkloadSettings& settings, ResultSink& sink);

// --connect PORT: a helper for workloads in tests; throws when the host
// refuses (exit 1).
int connect_mode(const InitOptions& o);

}  // namespace bencher::guest
