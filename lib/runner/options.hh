// options.hh: bencher-runner's command line (`run` and `prepare`), parsed and
// validated into one typed struct. bencher-plan serves it to the shell script
// as shell assignments (the way getopt(1) serves a script), and the planner
// reads the same struct, so each option has one meaning in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bencher::runner {

// The runner's own failures (bad image, no command, no kernel); usage errors
// are kExitUsage (2), as everywhere.
constexpr int kExitRunner = 125;

enum class Verb { run, prepare };

struct Options {
	Verb verb = Verb::run;
	bool help = false;  // -h/--help seen: the caller prints usage, nothing was validated
	std::string image;
	// Docker's overrides; absent means "the image's".
	std::optional<std::string> entrypoint;
	std::optional<std::vector<std::string>> cmd;
	std::vector<std::string> env;  // K=V, in command-line order
	std::string workdir;           // "" = the image's
	std::string user;              // "" = the image's
	// The VM and the results.
	uint64_t timeout_s = 300;
	uint64_t vcpus = 1;
	uint64_t memory_mib = 512;
	std::string disk;  // "" = sized by mkrootfs
	std::vector<std::string> outputs;
	std::string output_dir = ".";
	std::string max_output = "25M";  // as given, for collect-results
	uint64_t max_output_bytes = 25u << 20;
	uint64_t iterations = 1;
	bool allow_failure = false;
	std::string kernel;  // "" = the installed one
	std::string results;
	bool insecure = false;
	bool keep = false;
	bool dry_run = false;
	std::string log_level;
};

// Parses `run ...` or `prepare ...` (args[0] is the verb). Throws usage
// errors worded as bencher-runner's own (exit 2, "... (try --help)").
Options parse_options(const std::vector<std::string>& args);

// What the shell script needs, as NAME='VALUE' lines it can eval. Options
// that only shape run.json (entrypoint, cmd, env, ...) are left to the planner.
std::string shell_assignments(const Options& o);

// S single-quoted for sh: 'it'\''s'.
std::string shell_quote(std::string_view s);

}  // namespace bencher::runner
