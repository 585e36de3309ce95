// verdict.hh: how a collect-results run ended, decided once from what the
// supervisor, the channel and the VMM report saw: collect-results' exit
// status and the run's Outcome (exit_codes.hh), both in the results JSON.
#pragma once

#include <optional>
#include <string_view>

#include "common/exit_codes.hh"

namespace bencher::results {

// Which way the results came: none yet, vsock, or the serial fallback.
enum class Transport { none, vsock, serial };
// What became of the HMAC over everything received.
enum class HmacStatus { missing, passed, failed, unavailable };

std::string_view to_string(Transport t);
std::string_view to_string(HmacStatus h);

struct VerdictInput {
	bool timed_out = false;
	int cancel_signal = 0;              // 0: not cancelled
	std::optional<int> exit_code;       // the workload's, when its exit record arrived
	bool command_started = true;        // false: COMMAND could not be executed
	int command_status = -1;            // COMMAND's status, shell-style; -1: unknown
	bool guest_panicked = false;        // the VMM reported a guest panic
	HmacStatus hmac = HmacStatus::missing;
	bool require_hmac = false;
};

struct Verdict {
	int status;       // collect-results' exit status
	Outcome outcome;
};

Verdict decide(const VerdictInput& in);

}  // namespace bencher::results
