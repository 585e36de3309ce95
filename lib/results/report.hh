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

// collect-results --merge: {"iterations": [each file], "exit_code": the last
// one's, "prepare_ms": the first one's runner.prepare_ms or 0}. Throws naming
// the first file that is missing or not a results object.
json::Value merge_results(const std::vector<std::string>& paths);

}  // namespace bencher::results
