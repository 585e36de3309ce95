// cli.cc: collect-results' command line (cli.hh). Parse first, act later:
// Args holds everything the command line asks for.
#include "results/cli.hh"

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "common/json.hh"
#include "common/log.hh"
#include "common/size.hh"
#include "results/collector.hh"
#include "results/report.hh"
#include "results/runjson.hh"

namespace bencher::results {

namespace {

const char kHelp[] =
    "Usage: collect-results [OPTIONS] --config run.json -- COMMAND [ARG...]\n"
    "       collect-results --merge --out FILE RESULTS.json...\n"
    "Run COMMAND (the jailer + VMM chain) with the vsock control socket at fd 3,\n"
    "send bencher-init its run config, and pass on the workload's stdout, stderr,\n"
    "exit code and files.\n"
    "\n"
    "  -c, --config FILE          the run config (run.json) to send to the guest\n"
    "  -o, --out FILE             write the results JSON to FILE\n"
    "      --output-dir DIR       write returned files below DIR (default: base64 in --out)\n"
    "      --max-output-size SIZE per-stream output limit (default 25M)\n"
    "      --max-file-size SIZE   per-file limit for returned files (default 10M)\n"
    "      --max-files-size SIZE  limit for all returned files together (default 64M)\n"
    "  -t, --timeout SECONDS      stop COMMAND after SECONDS (default 0: none)\n"
    "      --kill-grace SECONDS   SIGTERM to SIGKILL delay when stopping COMMAND (default 2)\n"
    "      --vsock-fd N           the fd COMMAND gets the control socket on (default 3)\n"
    "      --vmm-report FILE      read the VMM's report (boot time) from FILE after COMMAND\n"
    "      --cgroup-stats FILE    read the jailer's --stats-out FILE after COMMAND\n"
    "      --console-log FILE     write COMMAND's stdout (the console), minus results records, to FILE\n"
    "      --require-hmac         exit 121 unless the HMAC verifies\n"
    "      --no-metrics           do not print the ---BENCHER_METRICS:{...}--- line\n"
    "      --no-hmac-notice       do not print \"[HMAC] verification passed\" (warnings still)\n"
    "      --hmac-key-file FILE   for tests: use the key in FILE (16-64 bytes), not a fresh one\n"
    "      --encode-config FILE   write the run config in wire form (no HMAC key) to FILE\n"
    "                             and exit: the serial fallback's /bencher/run.cfg\n"
    "      --cache-hit yes|no     for bencher-runner: the rootfs came from its cache\n"
    "      --prepare-ms N         for bencher-runner: its image preparation time\n"
    "      --started-at MICROS    for bencher-runner: its start, microseconds since the epoch\n"
    "                             (any of these three adds the \"runner\" stage times)\n"
    "      --merge                merge the results files given as operands into --out\n"
    "      --log-level LEVEL      error, warn (default), info or debug\n"
    "  -h, --help                 show this help\n"
    "      --version              show the version\n"
    "\n"
    "Exit status: the workload's exit code; 1 error; 2 usage; 121 HMAC failed with\n"
    "--require-hmac; 122 COMMAND failed before an exit code arrived; 123 no exit code\n"
    "received; 124 timeout; 128+N cancelled by signal N. See collect-results(1) and\n"
    "bencher-exit(7); the results JSON's \"outcome\" tells them from the workload's.\n";

double parse_seconds(const std::string& v, const char* what) {
	char* end = nullptr;
	errno = 0;
	double d = std::strtod(v.c_str(), &end);
	if (v.empty() || *end != '\0' || errno != 0 || !(d >= 0) || d > 1e7)
		fail_usage(strprintf("%s: not a number of seconds: \"%s\"", what, v.c_str()));
	return d;
}

bool parse_yes_no(const std::string& v, const char* what) {
	if (v == "yes") return true;
	if (v == "no") return false;
	fail_usage(strprintf("%s: expected yes or no, got \"%s\"", what, v.c_str()));
}

// Everything the command line asks for, before anything is acted on.
struct Args {
	CollectOptions o;
	std::string config_path, encode_path;
	std::optional<uint64_t> max_output, max_file, max_files;
	bool merge = false;
	std::vector<std::string> operands;
};

Args parse_args(int argc, char** argv) {
	Args a;
	CollectOptions& o = a.o;
	cli::Parser p({"collect-results", kHelp});
	p.value("config", 'c', [&](const std::string& v) { a.config_path = v; });
	p.value("out", 'o', [&](const std::string& v) { o.out_path = v; });
	p.value("output-dir", 0, [&](const std::string& v) { o.output_dir = v; });
	p.value("max-output-size", 0, [&](const std::string& v) { a.max_output = parse_size(v, "--max-output-size"); });
	p.value("max-file-size", 0, [&](const std::string& v) { a.max_file = parse_size(v, "--max-file-size"); });
	p.value("max-files-size", 0, [&](const std::string& v) { a.max_files = parse_size(v, "--max-files-size"); });
	p.value("timeout", 't', [&](const std::string& v) { o.timeout_s = parse_seconds(v, "--timeout"); });
	p.value("kill-grace", 0, [&](const std::string& v) { o.kill_grace_s = parse_seconds(v, "--kill-grace"); });
	p.value("vsock-fd", 0, [&](const std::string& v) {
		o.vsock_fd = static_cast<int>(parse_uint(v, "--vsock-fd", 3, 1000));
	});
	p.value("vmm-report", 0, [&](const std::string& v) { o.vmm_report_path = v; });
	p.value("cgroup-stats", 0, [&](const std::string& v) { o.cgroup_stats_path = v; });
	p.value("console-log", 0, [&](const std::string& v) { o.console_log = v; });
	p.flag("require-hmac", 0, [&] { o.require_hmac = true; });
	p.flag("no-metrics", 0, [&] { o.metrics = false; });
	p.flag("no-hmac-notice", 0, [&] { o.hmac_notice = false; });
	p.value("hmac-key-file", 0, [&](const std::string& v) { o.hmac_key = read_file(v, kMaxKeyBytes + 1); });
	p.value("encode-config", 0, [&](const std::string& v) { a.encode_path = v; });
	p.value("cache-hit", 0, [&](const std::string& v) { o.runner.cache_hit = parse_yes_no(v, "--cache-hit"); });
	p.value("prepare-ms", 0, [&](const std::string& v) {
		o.runner.prepare_ms = static_cast<int64_t>(parse_uint(v, "--prepare-ms", 0, INT32_MAX));
	});
	p.value("started-at", 0, [&](const std::string& v) {
		o.runner.started_at_us = static_cast<int64_t>(parse_uint(v, "--started-at", 0, INT64_MAX / 2));
	});
	p.flag("merge", 0, [&] { a.merge = true; });
	a.operands = p.parse(argc, argv);
	return a;
}

int merge(const Args& a) {
	if (a.o.out_path.empty()) fail_usage("--merge needs --out FILE");
	if (a.operands.empty()) fail_usage("--merge: no results files given");
	json::save_file(a.o.out_path, merge_results(a.operands), true);
	return 0;
}

}  // namespace

int collect_main(int argc, char** argv, int64_t started) {
	log::init_from_env();
	Args a = parse_args(argc, argv);
	if (a.merge) return merge(a);
	CollectOptions& o = a.o;
	o.started_us = started;
	o.command = std::move(a.operands);
	if (a.config_path.empty()) fail_usage("--config run.json is required");
	o.config = load_run_json(a.config_path);
	if (a.max_output) o.config.max_output_bytes = *a.max_output;
	if (a.max_file) o.config.max_file_bytes = *a.max_file;
	if (a.max_files) o.config.max_files_total_bytes = *a.max_files;
	validate(o.config);
	if (!a.encode_path.empty()) {
		if (!o.command.empty()) fail_usage("--encode-config takes no COMMAND");
		AtomicFile f(a.encode_path, 0644);
		write_all(f.fd(), encode_config(o.config), a.encode_path);
		f.commit();
		return 0;
	}
	if (o.command.empty()) fail_usage("no COMMAND given");
	return collect(o);
}

}  // namespace bencher::results
