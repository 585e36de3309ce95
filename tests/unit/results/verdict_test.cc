// Unit tests for lib/results/verdict and lib/common/exit_codes.hh: every
// outcome of the closed set, from the inputs that lead to it, and the one
// table agreeing with its man page, bencher-exit(7).
#include "results/verdict.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace bencher;
using namespace bencher::results;

namespace {

VerdictInput workload_exit(int code) {
	VerdictInput in;
	in.exit_code = code;
	in.command_status = 0;
	in.hmac = HmacStatus::passed;
	return in;
}

}  // namespace

TEST(Verdict, TheWorkloadsOwnCode) {
	Verdict v = decide(workload_exit(0));
	EXPECT_EQ(v.status, 0);
	EXPECT_EQ(v.outcome, Outcome::passed);
	// A workload's own 125, or init's 125 for it, is a failed workload, not a
	// runner failure: the outcome tells them apart where the code cannot.
	for (int code : {1, 42, 123, 124, 125, 126, 127, 137}) {
		v = decide(workload_exit(code));
		EXPECT_EQ(v.status, code);
		EXPECT_EQ(v.outcome, Outcome::failed) << code;
	}
}

TEST(Verdict, StoppedRunsWinOverWhatTheGuestSaid) {
	VerdictInput in = workload_exit(0);
	in.timed_out = true;
	in.require_hmac = true;
	in.hmac = HmacStatus::missing;
	EXPECT_EQ(decide(in).status, exit_codes::kCollectTimeout);
	EXPECT_EQ(decide(in).outcome, Outcome::timed_out);
	in.timed_out = false;
	in.cancel_signal = 15;
	EXPECT_EQ(decide(in).status, 143);
	EXPECT_EQ(decide(in).outcome, Outcome::cancelled);
}

TEST(Verdict, NoExitCode) {
	VerdictInput in;
	in.command_status = 0;
	EXPECT_EQ(decide(in).status, exit_codes::kCollectNoExitCode);
	EXPECT_EQ(decide(in).outcome, Outcome::vmm_error);
	in.command_status = 1;
	EXPECT_EQ(decide(in).status, exit_codes::kCollectCommandFailed);
	EXPECT_EQ(decide(in).outcome, Outcome::vmm_error);
	in.command_status = exit_codes::kVmmPanic;
	in.guest_panicked = true;
	EXPECT_EQ(decide(in).status, exit_codes::kCollectCommandFailed);
	EXPECT_EQ(decide(in).outcome, Outcome::guest_panic);
	in.command_started = false;
	in.command_status = 127;
	EXPECT_EQ(decide(in).status, exit_codes::kCollectCommandFailed);
	EXPECT_EQ(decide(in).outcome, Outcome::runner_error);
}

TEST(Verdict, Integrity) {
	VerdictInput in = workload_exit(0);
	in.hmac = HmacStatus::failed;
	EXPECT_EQ(decide(in).status, 0);  // without --require-hmac the code passes through
	EXPECT_EQ(decide(in).outcome, Outcome::integrity_failed);
	in.require_hmac = true;
	EXPECT_EQ(decide(in).status, exit_codes::kCollectHmacFailed);
	in.hmac = HmacStatus::missing;
	EXPECT_EQ(decide(in).status, exit_codes::kCollectHmacFailed);
	EXPECT_EQ(decide(in).outcome, Outcome::integrity_failed);
	in.hmac = HmacStatus::unavailable;  // serial: --require-hmac cannot be met
	EXPECT_EQ(decide(in).status, exit_codes::kCollectHmacFailed);
	in.hmac = HmacStatus::passed;
	EXPECT_EQ(decide(in).status, 0);
	EXPECT_EQ(decide(in).outcome, Outcome::passed);
}

TEST(Verdict, NamesRoundTrip) {
	for (Outcome o : kOutcomes) EXPECT_EQ(outcome_from_string(to_string(o)), o);
	EXPECT_FALSE(outcome_from_string("ok"));
	EXPECT_FALSE(outcome_from_string(""));
	EXPECT_EQ(to_string(Transport::none), "none");
	EXPECT_EQ(to_string(HmacStatus::unavailable), "unavailable");
	EXPECT_EQ(exit_codes::signal_code(9), 137);
}

// bencher-exit(7) documents the table once: every outcome and every
// collect-results code must be in it.
TEST(Verdict, ManPageListsTheTable) {
	const char* src = std::getenv("abs_top_srcdir");
	if (!src) GTEST_SKIP() << "abs_top_srcdir not set (run through make check)";
	std::ifstream f(std::string(src) + "/man/bencher-exit.7");
	ASSERT_TRUE(f) << "man/bencher-exit.7 missing";
	std::stringstream ss;
	ss << f.rdbuf();
	std::string page = ss.str();
	for (Outcome o : kOutcomes) {
		std::string name(to_string(o));
		EXPECT_NE(page.find(".B " + name + "\n"), std::string::npos) << name;
	}
	for (int code : {exit_codes::kCollectHmacFailed, exit_codes::kCollectCommandFailed, exit_codes::kCollectNoExitCode,
	                 exit_codes::kCollectTimeout, exit_codes::kRunnerFailed, exit_codes::kInitNotExecutable,
	                 exit_codes::kInitNotFound, exit_codes::kVmtestMachinery})
		EXPECT_NE(page.find(".B " + std::to_string(code) + "\n"), std::string::npos) << code;
}
