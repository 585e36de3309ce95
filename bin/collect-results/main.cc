// collect-results: the host end of the results channel. Runs COMMAND (the
// jailer + VMM chain) with the vsock control socket at fd 3, serves
// bencher-init's connections and hands back the workload's output, exit code,
// files and a results JSON. The logic is in lib/results/ (cli.hh first).
#include "common/error.hh"
#include "results/cli.hh"
#include "results/report.hh"

int main(int argc, char** argv) {
	int64_t started = bencher::results::realtime_us();
	return bencher::run_main("collect-results", [&] { return bencher::results::collect_main(argc, argv, started); });
}
