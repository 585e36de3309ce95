// bencher-plan: bencher-runner's planner. The shell script composes the
// programs; this one parses and checks its command line (shell assignments
// out, as getopt(1) does) and, given oci-unpack's config summary, writes the
// run config and names the cached rootfs. The logic is in lib/runner/.
#include "common/error.hh"
#include "runner/cli.hh"

int main(int argc, char** argv) {
	return bencher::run_main("bencher-plan", [&] {
		bencher::runner::plan_main(argc, argv);
		return 0;
	});
}
