// report.hh: the one writer of what collect-results hands back: the runner's
// stage times (its own and the ones bencher-runner passes in), the rounding
// every number goes through, and the multi-iteration merge. The results JSON
// and the ---BENCHER_METRICS:{...}--- line both take their figures from here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hh"
#include "results/protocol.hh"
#include "results/verdict.hh"

namespace bencher::results {

// Microseconds since the epoch on CLOCK_REALTIME: the clock bash's
// ${EPOCHREALTIME/./} reads, so --started-at compares with ours.
int64_t realtime_us();

// What bencher-runner tells collect-results about the run so far
// (--cache-hit, --prepare-ms, --started-at). None given: no "runner" object.
struct RunnerInfo {
	std::optional<bool> cache_hit;
	std::optional<int64_t> prepare_ms;
	std::optional<int64_t> started_at_us;
	bool given() const { return cache_hit || prepare_ms || started_at_us; }
};

// The moments collect-results sees, each in realtime_us(); unset when the
// run never got there (no config connection, no exit code).
struct StageMarks {
	int64_t start = 0;                    // collect-results started
	std::optional<int64_t> chain_start;   // COMMAND forked
	std::optional<int64_t> config_sent;   // bencher-init connected for its config
	std::optional<int64_t> exit_received; // the workload's exit code arrived
	std::optional<int64_t> command_exit;  // COMMAND reaped
};

// Whole milliseconds from a span in microseconds, rounded to nearest.
int64_t round_ms(int64_t us);
// A figure someone else measured in (fractional) milliseconds, rounded to
// whole microseconds: an integer when it is whole, else a real; null stays
// null and anything that is not a number becomes null.
json::Value rounded_ms(json_t* v);
// A copy of an object (a VMM report) with every real rounded as rounded_ms().
json::Value rounded_object(const json::Value& v);

// The "runner" object: cache_hit, prepare_ms, setup_ms, chain_ms, total_ms,
// boot_to_init_ms, workload_ms, teardown_ms; `now` is when it is written.
json::Value runner_json(const RunnerInfo& info, const StageMarks& marks, int64_t now);

// What the VMM (--vmm-report) and the jailer (--cgroup-stats) wrote, as far
// as it is usable: a report that is missing or not an object is a warning
// and null, never a failed run.
struct ChainReports {
	json::Value vmm = json::Value::null();    // the VMM's report, rounded
	json::Value boot = json::Value::null();   // its boot_to_init_ms
	bool guest_panicked = false;              // its outcome was "panic"
	json::Value cgroup = json::Value::null(); // the known integer figures
};
ChainReports load_chain_reports(const std::string& vmm_path, const std::string& cgroup_path);

// One stream as collect-results passed it on.
struct StreamFigures {
	uint64_t passed = 0;     // written to our stdout/stderr
	uint64_t received = 0;   // arrived from the guest
	bool cut = false;        // our limit cut it
};

// Everything a run's results JSON and metrics line say, gathered first.
struct RunSummary {
	Verdict verdict{0, Outcome::passed};
	std::optional<ExitRecord> exit;
	bool timed_out = false;
	bool cancelled = false;
	Transport transport = Transport::none;
	HmacStatus hmac = HmacStatus::missing;
	StreamFigures out, err;
	json::Value files = json::Value::array();
	std::string files_error;
	double wall_ms = 0;
	ChainReports chain;
	int command_status = -1;
	uint64_t refused = 0;
	std::string error;    // ours: COMMAND not run, a bad exit record
	json::Value runner;   // unset: no "runner" object
};

bool stdout_truncated(const RunSummary& s);
bool stderr_truncated(const RunSummary& s);
json::Value results_json(const RunSummary& s);
// "---BENCHER_METRICS:{...}---", without the newline.
std::string metrics_line(const RunSummary& s);

// collect-results --merge: {"iterations": [each file], "exit_code": the last
// one's, "prepare_ms": the first one's runner.prepare_ms or 0}. Throws naming
// the first file that is missing or not a results object.
json::Value merge_results(const std::vector<std::string>& paths);

}  // namespace bencher::results
