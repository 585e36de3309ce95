// exit_codes.hh: the one table of exit codes and run outcomes of the whole
// toolchain, documented once in bencher-exit(7). Every program takes its
// codes from here, and the results JSON carries an Outcome beside the
// workload's exit code, so a workload's own 125 is never read as a runner
// failure.
#pragma once

#include <optional>
#include <string_view>

namespace bencher::exit_codes {

// Every program.
inline constexpr int kOk = 0;
inline constexpr int kFailure = 1;  // runtime failure (bad input, I/O error, ...)
inline constexpr int kUsage = 2;    // bad command line

// oci-unpack.
inline constexpr int kOciNotFound = 3;   // image, tag, platform or blob not found
inline constexpr int kOciIntegrity = 4;  // digest or size mismatch, truncated blob
inline constexpr int kOciUnsafe = 5;     // hostile content: traversal, bombs, bad links
inline constexpr int kOciRegistry = 6;   // registry or network failure

// bencher-vmm.
inline constexpr int kVmmTimeout = 3;
inline constexpr int kVmmCancelled = 4;
inline constexpr int kVmmPanic = 5;      // the guest kernel panicked
inline constexpr int kVmmFault = 6;      // triple fault, KVM internal or emulation error

// collect-results, beside the workload's own code.
inline constexpr int kCollectHmacFailed = 121;     // --require-hmac and the HMAC did not verify
inline constexpr int kCollectCommandFailed = 122;  // COMMAND failed before an exit code arrived
inline constexpr int kCollectNoExitCode = 123;     // COMMAND ended cleanly, no exit code arrived
inline constexpr int kCollectTimeout = 124;        // --timeout expired

// bencher-runner.
inline constexpr int kRunnerTimeout = 124;  // the workload ran past --timeout
inline constexpr int kRunnerFailed = 125;   // the runner itself failed (image, rootfs, tools)

// bencher-vmtest, beside COMMAND's own code (one-liner) or the number of
// failed targets (vmtest.toml): vmtest's code, sysexits' EX_UNAVAILABLE.
inline constexpr int kVmtestMachinery = 69;  // the VM could not run COMMAND: kernel, VMM, virtiofsd, panic

// bencher-init, reported as the workload's exit code.
inline constexpr int kInitSetupFailed = 125;    // user, working directory or cgroup not applied
inline constexpr int kInitNotExecutable = 126;
inline constexpr int kInitNotFound = 127;

// Killed or cancelled by signal N: 128 + N (137 SIGKILL, 143 SIGTERM).
inline constexpr int kSignalBase = 128;
constexpr int signal_code(int signo) { return kSignalBase + signo; }

}  // namespace bencher::exit_codes

namespace bencher {

// How a run ended, a closed set: "outcome" in the results JSON.
enum class Outcome {
	passed,            // the workload exited 0
	failed,            // the workload exited non-zero (its own code, or init's 125-127)
	timed_out,         // the timeout stopped the run
	cancelled,         // a signal stopped the run
	guest_panic,       // the guest kernel panicked before an exit code arrived
	vmm_error,         // the VM chain failed, or ended, without an exit code
	integrity_failed,  // the HMAC did not verify: the results cannot be trusted
	runner_error,      // the chain could not be started at all
};

inline constexpr Outcome kOutcomes[] = {Outcome::passed,      Outcome::failed,    Outcome::timed_out,
                                        Outcome::cancelled,   Outcome::guest_panic, Outcome::vmm_error,
                                        Outcome::integrity_failed, Outcome::runner_error};

constexpr std::string_view to_string(Outcome o) {
	switch (o) {
	case Outcome::passed: return "passed";
	case Outcome::failed: return "failed";
	case Outcome::timed_out: return "timed_out";
	case Outcome::cancelled: return "cancelled";
	case Outcome::guest_panic: return "guest_panic";
	case Outcome::vmm_error: return "vmm_error";
	case Outcome::integrity_failed: return "integrity_failed";
	case Outcome::runner_error: return "runner_error";
	}
	return "runner_error";
}

constexpr std::optional<Outcome> outcome_from_string(std::string_view s) {
	for (Outcome o : kOutcomes)
		if (to_string(o) == s) return o;
	return std::nullopt;
}

}  // namespace bencher
