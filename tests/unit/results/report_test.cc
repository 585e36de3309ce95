// Unit tests for lib/results/report: the runner's stage times over fixed
// marks (no clock), rounding, and the iteration merge over real files.
#include "results/report.hh"

#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"

using namespace bencher;
using namespace bencher::results;

namespace {

std::string dumped(json_t* v) { return json::dump(json::Value::borrow(v)); }

std::string field(const json::Value& v, const char* key) { return dumped(json_object_get(v.get(), key)); }

void write(const std::string& path, std::string_view text) {
	AtomicFile f(path);
	write_all(f.fd(), text, path);
	f.commit();
}

}  // namespace

TEST(Report, RoundsToWholeMilliseconds) {
	EXPECT_EQ(round_ms(0), 0);
	EXPECT_EQ(round_ms(499), 0);
	EXPECT_EQ(round_ms(500), 1);
	EXPECT_EQ(round_ms(2421749), 2422);
	EXPECT_EQ(round_ms(-1500), -2);
}

TEST(Report, ForeignMillisecondsRoundToMicroseconds) {
	auto r = [](json_t* v) {
		std::string s = json::dump(rounded_ms(v));
		json_decref(v);
		return s;
	};
	EXPECT_EQ(r(json_real(2421.7497990000002)), "2421.75");
	EXPECT_EQ(r(json_real(123.5)), "123.5");
	EXPECT_EQ(r(json_real(7.0004)), "7");
	EXPECT_EQ(r(json_integer(40)), "40");
	EXPECT_EQ(r(json_string("12")), "null");
	EXPECT_EQ(r(json_real(1e300)), "null");
	EXPECT_EQ(json::dump(rounded_ms(nullptr)), "null");
	json::Value report = json::parse(R"({"outcome":"reboot","run_ms":400.0001,"boot_to_init_ms":1.2345678})", "t");
	EXPECT_EQ(json::dump(rounded_object(report)), R"({"outcome":"reboot","run_ms":400,"boot_to_init_ms":1.235})");
}

TEST(Report, RunnerStageTimes) {
	StageMarks m;
	m.start = 10'000'000;
	m.chain_start = 10'002'000;
	m.config_sent = 10'502'400;
	m.exit_received = 11'502'400;
	m.command_exit = 11'602'900;
	RunnerInfo info;
	info.cache_hit = true;
	info.prepare_ms = 30;
	info.started_at_us = 9'900'000;
	json::Value r = runner_json(info, m, 11'700'000);
	EXPECT_EQ(json::dump(r), R"({"cache_hit":true,"prepare_ms":30,"setup_ms":70,"chain_ms":1700,"total_ms":1800,)"
	                         R"("boot_to_init_ms":500,"workload_ms":1000,"teardown_ms":101})");
}

TEST(Report, SetupNeverNegativeAndMissingStagesAreNull) {
	StageMarks m;
	m.start = 1'000'000;
	RunnerInfo info;
	info.prepare_ms = 5000;            // longer than the gap: a clock step or a lie
	info.started_at_us = 2'000'000;    // after our own start
	json::Value r = runner_json(info, m, 1'500'000);
	EXPECT_EQ(field(r, "setup_ms"), "0");
	EXPECT_EQ(field(r, "total_ms"), "0");
	EXPECT_EQ(field(r, "cache_hit"), "null");
	EXPECT_EQ(field(r, "boot_to_init_ms"), "null");
	EXPECT_EQ(field(r, "workload_ms"), "null");
	EXPECT_EQ(field(r, "teardown_ms"), "null");
	EXPECT_FALSE(RunnerInfo{}.given());
	RunnerInfo only;
	only.cache_hit = false;
	EXPECT_TRUE(only.given());
	EXPECT_EQ(field(runner_json(only, m, 1'500'000), "setup_ms"), "null");
}

TEST(Report, MergeKeepsTheIterationsShape) {
	TempDir dir("report-test");
	std::string a = dir.path() + "/a.json", b = dir.path() + "/b.json";
	write(a, R"({"exit_code": 0, "runner": {"prepare_ms": 812}})");
	write(b, R"({"exit_code": 3, "runner": {"prepare_ms": 0}})");
	json::Value m = merge_results({a, b});
	EXPECT_EQ(json::dump(m), R"({"iterations":[{"exit_code":0,"runner":{"prepare_ms":812}},)"
	                         R"({"exit_code":3,"runner":{"prepare_ms":0}}],"exit_code":3,"prepare_ms":812})");
	write(a, R"({"exit_code": null})");
	EXPECT_EQ(json::dump(merge_results({a})), R"({"iterations":[{"exit_code":null}],"exit_code":null,"prepare_ms":0})");
}

TEST(Report, MergeRejectsBadInputNamingIt) {
	TempDir dir("report-test");
	std::string good = dir.path() + "/good.json", bad = dir.path() + "/bad.json";
	write(good, R"({"exit_code": 0})");
	write(bad, R"([1, 2])");
	for (const auto& [files, name] : std::vector<std::pair<std::vector<std::string>, std::string>>{
	         {{good, bad}, bad}, {{good, dir.path() + "/none.json"}, "none.json"}}) {
		try {
			merge_results(files);
			ADD_FAILURE() << "no error for " << name;
		} catch (const Error& e) {
			EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
		}
	}
	write(bad, "{\"exit_code\": 0");
	EXPECT_THROW(merge_results({bad}), Error);
	EXPECT_THROW(merge_results({}), Error);
}
