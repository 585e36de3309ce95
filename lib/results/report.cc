// report.cc: stage times, rounding and the iteration merge (see report.hh).
#include "results/report.hh"

#include <time.h>

#include <cmath>

#include "common/error.hh"
#include "common/log.hh"

namespace bencher::results {

int64_t realtime_us() {
	timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t round_ms(int64_t us) {
	return us >= 0 ? (us + 500) / 1000 : -((-us + 500) / 1000);
}

json::Value rounded_ms(json_t* v) {
	if (v && json_is_integer(v)) return json::Value::integer(json_integer_value(v));
	if (!v || !json_is_real(v) || !std::isfinite(json_real_value(v)) || std::fabs(json_real_value(v)) > 1e12)
		return json::Value::null();
	int64_t us = std::llround(json_real_value(v) * 1000);
	if (us % 1000 == 0) return json::Value::integer(us / 1000);
	return json::Value::real(static_cast<double>(us) / 1000);
}

json::Value rounded_object(const json::Value& v) {
	json::Value out = json::Value::object();
	const char* key;
	json_t* item;
	json_object_foreach(v.get(), key, item) {
		out.set(key, json_is_real(item) ? rounded_ms(item) : json::Value::borrow(item));
	}
	return out;
}

namespace {

// A span between two marks in whole ms, or null when either is missing; a
// negative span (events seen out of order) counts as none.
json::Value span(std::optional<int64_t> from, std::optional<int64_t> to) {
	if (!from || !to) return json::Value::null();
	return json::Value::integer(*to > *from ? round_ms(*to - *from) : 0);
}

}  // namespace

json::Value runner_json(const RunnerInfo& info, const StageMarks& marks, int64_t now) {
	int64_t prepare = info.prepare_ms.value_or(0);
	json::Value r = json::Value::object();
	r.set("cache_hit", info.cache_hit ? json::Value::boolean(*info.cache_hit) : json::Value::null());
	r.set("prepare_ms", json::Value::integer(prepare));
	if (info.started_at_us) {
		int64_t setup = round_ms(marks.start - *info.started_at_us) - prepare;
		r.set("setup_ms", json::Value::integer(setup > 0 ? setup : 0));
	} else {
		r.set("setup_ms", json::Value::null());
	}
	r.set("chain_ms", span(marks.start, now));
	r.set("total_ms", span(info.started_at_us, now));
	r.set("boot_to_init_ms", span(marks.chain_start, marks.config_sent));
	r.set("workload_ms", span(marks.config_sent, marks.exit_received));
	r.set("teardown_ms", span(marks.exit_received, marks.command_exit));
	return r;
}

namespace {

constexpr const char* kCgroupKeys[] = {"cgroup_version", "memory_peak_bytes", "memory_max_bytes", "cpu_usage_usec",
                                       "cpu_user_usec",  "cpu_system_usec",   "nr_throttled",     "pids_max"};

json::Value load_object(const std::string& path) {
	json::Value r = json::load_file(path);
	if (!json_is_object(r.get())) fail(path + ": not a JSON object");
	return r;
}

json::Value integer(uint64_t v) { return json::Value::integer(static_cast<int64_t>(v)); }

json::Value stream_json(const StreamFigures& f, bool truncated, const std::optional<uint64_t>& produced) {
	json::Value v = json::Value::object();
	v.set("bytes", integer(f.passed));
	v.set("received", integer(f.received));
	v.set("produced", produced ? integer(*produced) : json::Value::null());
	v.set("truncated", json::Value::boolean(truncated));
	return v;
}

}  // namespace

ChainReports load_chain_reports(const std::string& vmm_path, const std::string& cgroup_path) {
	ChainReports c;
	if (!vmm_path.empty()) {
		try {
			json::Value r = load_object(vmm_path);
			c.vmm = rounded_object(r);
			c.boot = rounded_ms(json_object_get(r.get(), "boot_to_init_ms"));
			json_t* outcome = json_object_get(r.get(), "outcome");
			c.guest_panicked = json_is_string(outcome) && std::string_view(json_string_value(outcome)) == "panic";
		} catch (const Error& e) {
			BLOG_WARN("vmm report: %s", e.what());
		}
	}
	if (cgroup_path.empty()) return c;
	try {
		json::Value r = load_object(cgroup_path);
		json::Value cg = json::Value::object();
		for (const char* k : kCgroupKeys) {
			json_t* v = json_object_get(r.get(), k);
			if (v && json_is_integer(v)) cg.set(k, json::Value::integer(json_integer_value(v)));
		}
		if (json_object_size(cg.get()) > 0) c.cgroup = cg;
	} catch (const Error& e) {
		BLOG_WARN("cgroup stats: %s", e.what());
	}
	return c;
}

bool stdout_truncated(const RunSummary& s) { return (s.exit && s.exit->stdout_truncated) || s.out.cut; }
bool stderr_truncated(const RunSummary& s) { return (s.exit && s.exit->stderr_truncated) || s.err.cut; }

json::Value results_json(const RunSummary& s) {
	const auto& rec = s.exit;
	json::Value r = json::Value::object();
	r.set("exit_code", rec ? json::Value::integer(rec->exit_code) : json::Value::null());
	r.set("outcome", json::Value::string(to_string(s.verdict.outcome)));
	r.set("signal", rec && rec->signal ? json::Value::integer(rec->signal) : json::Value::null());
	r.set("timed_out", json::Value::boolean(s.timed_out));
	r.set("cancelled", json::Value::boolean(s.cancelled));
	r.set("status", json::Value::integer(s.verdict.status));
	r.set("transport", s.transport == Transport::none ? json::Value::null() : json::Value::string(to_string(s.transport)));
	r.set("truncated", json::Value::boolean(stdout_truncated(s) || stderr_truncated(s)));
	r.set("stdout", stream_json(s.out, stdout_truncated(s), rec ? std::optional(rec->stdout_bytes) : std::nullopt));
	r.set("stderr", stream_json(s.err, stderr_truncated(s), rec ? std::optional(rec->stderr_bytes) : std::nullopt));
	r.set("files", s.files);
	if (!s.files_error.empty()) r.set("files_error", json::Value::string(s.files_error));
	r.set("hmac", json::Value::string(to_string(s.hmac)));
	r.set("wall_clock_ms", json::Value::integer(static_cast<int64_t>(s.wall_ms)));
	r.set("boot_to_init_ms", s.chain.boot);
	r.set("vmm", s.chain.vmm);
	r.set("cgroup", s.chain.cgroup);
	r.set("command_status", s.command_status >= 0 ? json::Value::integer(s.command_status) : json::Value::null());
	r.set("refused_connections", integer(s.refused));
	// init's own reason for a 125-127 says more than ours.
	const std::string& err = rec && !rec->error.empty() ? rec->error : s.error;
	r.set("error", err.empty() ? json::Value::null() : json::Value::string(err));
	if (s.runner) r.set("runner", s.runner);
	return r;
}

std::string metrics_line(const RunSummary& s) {
	json::Value m = json::Value::object();
	m.set("wall_clock_ms", json::Value::integer(static_cast<int64_t>(s.wall_ms)));
	m.set("timed_out", json::Value::boolean(s.timed_out));
	m.set("cancelled", json::Value::boolean(s.cancelled));
	m.set("transport", json::Value::string(to_string(s.transport)));
	m.set("outcome", json::Value::string(to_string(s.verdict.outcome)));
	m.set("boot_to_init_ms", s.chain.boot);
	const char* key;
	json_t* v;
	if (json_is_object(s.chain.cgroup.get())) json_object_foreach(s.chain.cgroup.get(), key, v) m.set(key, json::Value::borrow(v));
	if (s.runner) m.set("runner", s.runner);
	return "---BENCHER_METRICS:" + json::dump(m) + "---";
}

json::Value merge_results(const std::vector<std::string>& paths) {
	if (paths.empty()) fail("--merge: no results files given");
	json::Value iterations = json::Value::array();
	for (const auto& p : paths) {
		json::Value v = json::load_file(p);
		if (!json_is_object(v.get())) fail(p + ": not a results object");
		iterations.append(std::move(v));
	}
	json_t* first = json_array_get(iterations.get(), 0);
	json_t* last = json_array_get(iterations.get(), json_array_size(iterations.get()) - 1);
	json_t* exit_code = json_object_get(last, "exit_code");
	json_t* prepare = json_object_get(json_object_get(first, "runner"), "prepare_ms");
	json::Value out = json::Value::object();
	out.set("iterations", std::move(iterations));
	out.set("exit_code", exit_code ? json::Value::borrow(exit_code) : json::Value::null());
	out.set("prepare_ms", prepare && json_is_integer(prepare) ? json::Value::borrow(prepare) : json::Value::integer(0));
	return out;
}

}  // namespace bencher::results
