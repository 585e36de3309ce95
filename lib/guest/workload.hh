// workload.hh: the run config's command as init's child. It is set up in the
// forked child before execve (stdio on pipes, the cgroup, no port I/O, no
// CAP_SYS_PTRACE, the user, the working directory); its stdout and stderr go
// to the result sink as they are produced, cut at the output limit; when it
// exits, whatever it left behind is killed and the pipes drained. Codes the
// workload could not have produced itself: 125 (setup), 126 (cannot exec),
// 127 (not found); a signal N is reported as 128+N.
#pragma once

#include <string>

#include "common/exit_codes.hh"
#include "guest/cgroup.hh"
#include "guest/sink.hh"
#include "results/protocol.hh"

namespace bencher::guest {

constexpr int kSetupFailed = exit_codes::kInitSetupFailed;  // user, workdir or cgroup not applied
constexpr int kCannotExec = exit_codes::kInitNotExecutable;  // found but not executable
constexpr int kNotFound = exit_codes::kInitNotFound;         // no such command

struct WorkloadSettings {
	// In the guest: the working directory is created when missing, root's
	// HOME comes from the image, cgroup2 is mounted when needed. Outside
	// (test mode) the file system is the host's and is left alone.
	bool in_guest = true;
	std::string cgroup_root = kCgroupRoot;
	// Test mode: the control socket, left open for the workload and named in
	// BENCHER_TEST_CONTROL_FD (a workload's own connection attempts).
	int control_fd = -1;
};

// Runs the workload to its end; stdout and stderr are sent to `sink` (not
// closed). SIGTERM, SIGINT and SIGHUP stay blocked in this process
// afterwards: init forwards them while the workload runs, and ignores them
// while it sends the rest of the results.
results::ExitRecord run_workload(const results::RunConfig& cfg, const WorkloadSettings& settings, ResultSink& sink);

}  // namespace bencher::guest
