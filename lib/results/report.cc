// report.cc: stage times, rounding and the iteration merge (see report.hh).
#include "results/report.hh"

#include <time.h>

#include <cmath>

#include "common/error.hh"

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
