// collector.hh: the host end of the results channel, what collect-results
// runs. One session wires the units of lib/results together: the supervisor
// (COMMAND, timeout, signals), the channel (accept policy, demux, HMAC), the
// file mirror, the verdict and the report; this file only moves bytes
// between them in one poll() loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "results/protocol.hh"
#include "results/report.hh"

namespace bencher::results {

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
	bool hmac_notice = true;          // "[HMAC] verification passed" (warnings are always said)
	RunnerInfo runner;                // bencher-runner's figures, for the "runner" object
	int64_t started_us = 0;           // realtime_us() at our own start; 0: when collect() begins
};

// Runs the whole exchange; returns the exit status for main().
int collect(const CollectOptions& opts);

}  // namespace bencher::results
