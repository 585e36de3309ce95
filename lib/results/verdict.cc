// verdict.cc: collect-results' exit status and the run's outcome (see
// verdict.hh and bencher-exit(7)).
#include "results/verdict.hh"

namespace bencher::results {

namespace xc = exit_codes;

std::string_view to_string(Transport t) {
	switch (t) {
	case Transport::vsock: return "vsock";
	case Transport::serial: return "serial";
	case Transport::none: break;
	}
	return "none";
}

std::string_view to_string(HmacStatus h) {
	switch (h) {
	case HmacStatus::passed: return "passed";
	case HmacStatus::failed: return "failed";
	case HmacStatus::unavailable: return "unavailable";
	case HmacStatus::missing: break;
	}
	return "missing";
}

namespace {

// The status alone: a timeout or a cancel wins over anything the guest said,
// and without an exit code the chain's failure decides between 122 and 123.
int status_of(const VerdictInput& in) {
	int status;
	if (in.timed_out) status = xc::kCollectTimeout;
	else if (in.cancel_signal) status = xc::signal_code(in.cancel_signal);
	else if (in.exit_code) status = *in.exit_code;
	else if (!in.command_started || in.command_status != 0) status = xc::kCollectCommandFailed;
	else status = xc::kCollectNoExitCode;
	bool stopped = in.timed_out || in.cancel_signal;
	if (in.require_hmac && in.hmac != HmacStatus::passed && !stopped) status = xc::kCollectHmacFailed;
	return status;
}

Outcome outcome_of(const VerdictInput& in, int status) {
	if (in.timed_out) return Outcome::timed_out;
	if (in.cancel_signal) return Outcome::cancelled;
	// Results that fail their HMAC say nothing trustworthy about the workload.
	if (in.hmac == HmacStatus::failed || status == xc::kCollectHmacFailed) return Outcome::integrity_failed;
	if (in.exit_code) return *in.exit_code == 0 ? Outcome::passed : Outcome::failed;
	if (!in.command_started) return Outcome::runner_error;
	if (in.guest_panicked) return Outcome::guest_panic;
	return Outcome::vmm_error;
}

}  // namespace

Verdict decide(const VerdictInput& in) {
	int status = status_of(in);
	return {status, outcome_of(in, status)};
}

}  // namespace bencher::results
