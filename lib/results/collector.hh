// collector.hh: the host end of the results channel, what collect-results
// runs: starts COMMAND (the jailer + VMM chain) with the vsock control
// socket at an inherited fd, serves the guest's connections (one per port,
// config first), streams the workload's output to our stdout/stderr, parses
// the serial fallback from COMMAND's stdout, verifies the HMAC, enforces
// timeout and cancel, and writes results.json and the metrics line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "results/protocol.hh"
#include "results/report.hh"

namespace bencher::results {

// collect-results' own exit codes, beside the workload's (see collect-results(1)).
enum CollectExit : int {
	kExitHmacFailed = 121,   // --require-hmac and the HMAC did not verify
	kExitCommandFailed = 122, // COMMAND failed to start, or failed before an exit code arrived
	kExitNoExitCode = 123,   // COMMAND ended cleanly but the guest reported no exit code
	kExitTimeout = 124,      // --timeout expired
	// cancelled: 128 + the signal (143 for SIGTERM, 130 for SIGINT)
};

struct CollectOptions {
	RunConfig config;                 // without key; a fresh one is added per run
	std::vector<std::string> command;
	std::string out_path;             // results.json
	std::string output_dir;           // files written here instead of base64
	std::string vmm_report_path;
	std::string cgroup_stats_path;
	std::string console_log;          // console text outside serial records
	int vsock_fd = 3;
	double timeout_s = 0;             // 0: none
	double kill_grace_s = 2;          // SIGTERM -> SIGKILL
	double drain_s = 2;               // after COMMAND exits, wait this long for EOFs
	bool require_hmac = false;
	std::string hmac_key;             // tests only: this key instead of a fresh random one
	bool metrics = true;
	RunnerInfo runner;                // bencher-runner's figures, for the "runner" object
	int64_t started_us = 0;           // realtime_us() at our own start; 0: when collect() begins
};

// Runs the whole exchange; returns the exit status for main().
int collect(const CollectOptions& opts);

}  // namespace bencher::results
