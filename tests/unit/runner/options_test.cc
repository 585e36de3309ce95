// Unit tests for lib/runner/options: bencher-runner's `run` and `prepare`
// command lines, the messages and exit codes users already know, and the
// shell assignments the script evals.
#include "runner/options.hh"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.hh"

using bencher::Error;
using namespace bencher::runner;

namespace {

Options run(std::vector<std::string> args) {
	args.insert(args.begin(), "run");
	return parse_options(args);
}

// The message and exit code of a rejected command line.
std::pair<std::string, int> rejected(std::vector<std::string> args) {
	try {
		parse_options(args);
	} catch (const Error& e) {
		return {e.what(), e.exit_code()};
	}
	return {"(accepted)", 0};
}

void expect_usage(const std::vector<std::string>& args, const std::string& message) {
	auto [what, code] = rejected(args);
	EXPECT_EQ(message + " (try --help)", what);
	EXPECT_EQ(2, code);
}

}  // namespace

TEST(RunnerOptions, Defaults) {
	Options o = run({"--image", "img"});
	EXPECT_EQ(Verb::run, o.verb);
	EXPECT_EQ("img", o.image);
	EXPECT_FALSE(o.entrypoint);
	EXPECT_FALSE(o.cmd);
	EXPECT_EQ(300u, o.timeout_s);
	EXPECT_EQ(1u, o.vcpus);
	EXPECT_EQ(512u, o.memory_mib);
	EXPECT_EQ(25u << 20, o.max_output_bytes);
	EXPECT_EQ("25M", o.max_output);
	EXPECT_EQ(".", o.output_dir);
	EXPECT_EQ(1u, o.iterations);
}

TEST(RunnerOptions, EveryOption) {
	Options o = run({"--image", "i", "--entrypoint", "/ep", "--cmd", "a", "--cmd", "b c", "--env", "K=V",
			 "--workdir", "/w", "--user", "1:2", "--timeout", "0", "--vcpus", "32", "--memory", "64",
			 "--disk", "1G", "--output", "/o1", "--output", "/o2", "--output-dir", "out",
			 "--max-output-size", "1K", "--iterations", "3", "--allow-failure", "--kernel", "k",
			 "--results", "r.json", "--insecure-registry", "--keep", "--dry-run", "--log-level", "info"});
	EXPECT_EQ("/ep", *o.entrypoint);
	EXPECT_EQ((std::vector<std::string>{"a", "b c"}), *o.cmd);
	EXPECT_EQ((std::vector<std::string>{"K=V"}), o.env);
	EXPECT_EQ("/w", o.workdir);
	EXPECT_EQ("1:2", o.user);
	EXPECT_EQ(0u, o.timeout_s);
	EXPECT_EQ(32u, o.vcpus);
	EXPECT_EQ(64u, o.memory_mib);
	EXPECT_EQ("1G", o.disk);
	EXPECT_EQ((std::vector<std::string>{"/o1", "/o2"}), o.outputs);
	EXPECT_EQ("out", o.output_dir);
	EXPECT_EQ(1024u, o.max_output_bytes);
	EXPECT_EQ(3u, o.iterations);
	EXPECT_TRUE(o.allow_failure && o.insecure && o.keep && o.dry_run);
	EXPECT_EQ("k", o.kernel);
	EXPECT_EQ("r.json", o.results);
	EXPECT_EQ("info", o.log_level);
}

TEST(RunnerOptions, EqualsFormAndLastValueWins) {
	Options o = run({"--image=a=b", "--vcpus", "0", "--vcpus=2", "--timeout=010"});
	EXPECT_EQ("a=b", o.image);
	EXPECT_EQ(2u, o.vcpus);
	// Decimal, never octal as the shell's arithmetic would read it.
	EXPECT_EQ(10u, o.timeout_s);
}

TEST(RunnerOptions, HelpStopsBeforeAnyCheck) {
	EXPECT_TRUE(run({"--vcpus", "99", "-h"}).help);
	EXPECT_TRUE(parse_options({"prepare", "--help"}).help);
}

TEST(RunnerOptions, UsageErrorsAsBefore) {
	expect_usage({"run"}, "run: --image is required");
	expect_usage({"prepare"}, "prepare: --image is required");
	expect_usage({"run", "--image", "i", "--bogus"}, "run: --bogus: unknown option");
	expect_usage({"run", "--image"}, "--image: missing value");
	expect_usage({"run", "--image", "i", "--", "extra"}, "run: unexpected argument: extra");
	expect_usage({"run", "--image", "i", "stray"}, "run: stray: unknown option");
	expect_usage({"run", "--image", "i", "--keep=1"}, "run: 1: unknown option");
	expect_usage({"run", "--image", "i", "--vcpus", "33"}, "--vcpus: '33': expected 1 to 32");
	expect_usage({"run", "--image", "i", "--vcpus", "0"}, "--vcpus: '0': expected 1 to 32");
	expect_usage({"run", "--image", "i", "--memory", "63"}, "--memory: '63': expected MiB, at least 64");
	expect_usage({"run", "--image", "i", "--timeout", "soon"}, "--timeout: 'soon': expected seconds");
	expect_usage({"run", "--image", "i", "--timeout", "-1"}, "--timeout: '-1': expected seconds");
	expect_usage({"run", "--image", "i", "--timeout", "99999999999999999999999"},
		     "--timeout: '99999999999999999999999': expected seconds");
	expect_usage({"run", "--image", "i", "--iterations", "0"}, "--iterations: '0': expected a positive count");
	expect_usage({"run", "--image", "i", "--max-output-size", "lots"},
		     "--max-output-size: 'lots': expected a size like 25M");
	expect_usage({"run", "--image", "i", "--env", "NOEQUALS"}, "--env: 'NOEQUALS': expected K=V");
	expect_usage({"run", "--image", "i", "--env", "=x"}, "--env: '=x': expected K=V");
	expect_usage({"run", "--image", "i", "--workdir", "rel"}, "--workdir: 'rel': expected an absolute path");
	expect_usage({"frobnicate"}, "expected run or prepare");
}

TEST(RunnerOptions, PrepareTakesOnlyItsOwnOptions) {
	Options o = parse_options({"prepare", "--image", "i", "--disk", "128M", "--insecure-registry"});
	EXPECT_EQ(Verb::prepare, o.verb);
	EXPECT_EQ("128M", o.disk);
	EXPECT_TRUE(o.insecure);
	expect_usage({"prepare", "--image", "i", "--cmd", "x"}, "prepare: --cmd: unknown option");
	expect_usage({"prepare", "--image", "i", "--"}, "prepare: --: unknown option");
}

TEST(RunnerOptions, ShellQuoteSurvivesAnything) {
	EXPECT_EQ("''", shell_quote(""));
	EXPECT_EQ("'a b'", shell_quote("a b"));
	EXPECT_EQ("'it'\\''s'", shell_quote("it's"));
	EXPECT_EQ("'$(rm -rf /)`x`\n\\'", shell_quote("$(rm -rf /)`x`\n\\"));
}

TEST(RunnerOptions, ShellAssignments) {
	std::string s = shell_assignments(run({"--image", "it's", "--timeout", "7", "--dry-run"}));
	EXPECT_NE(std::string::npos, s.find("image='it'\\''s'\n"));
	EXPECT_NE(std::string::npos, s.find("timeout='7'\n"));
	EXPECT_NE(std::string::npos, s.find("dry_run='1'\n"));
	EXPECT_NE(std::string::npos, s.find("help='0'\n"));
	std::string p = shell_assignments(parse_options({"prepare", "--image", "i"}));
	EXPECT_EQ(std::string::npos, p.find("timeout="));
}
