// run.cc: bencher-vmtest as a whole (cli.hh's vmtest_main): the command line
// into targets, each run through the pipeline with its PASS/FAIL line as it
// ends, then the summary and the exit status.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/error.hh"
#include "common/exit_codes.hh"
#include "common/fd.hh"
#include "vmtest/cli.hh"
#include "vmtest/kmod.hh"
#include "vmtest/pipeline.hh"

namespace bencher::vmtest {

namespace {

// --check-kernel: what the kernel lacks, one line each; 0 when nothing.
int check_kernel_main(const Options& o) {
	KernelCheck c;
	try {
		c = check_kernel(o.check_kernel, o.modules);
	} catch (const Error& e) {
		fail(e.what(), exit_codes::kVmtestMachinery);
	}
	std::string out = "kernel:  " + o.check_kernel + "\nrelease: " + c.release + "\nconfig:  " + c.config_source + "\n";
	for (const std::string& m : c.modules) out += "module:  " + m + "\n";
	for (const std::string& u : c.unknown) out += "unknown: " + u + "\n";
	for (const std::string& l : c.lacks) out += "lacks:   " + l + "\n";
	out += c.ok() ? "ready:   yes\n" : "ready:   no\n";
	write_all(1, out, "stdout");
	return c.ok() ? 0 : exit_codes::kFailure;
}

}  // namespace

int vmtest_main(int argc, char** argv) {
	Options o = parse_args(argc, argv);
	if (!o.check_kernel.empty()) return check_kernel_main(o);
	char* cwd = ::getcwd(nullptr, 0);
	if (cwd == nullptr) fail_errno("getcwd", errno, exit_codes::kVmtestMachinery);
	RunContext ctx;
	ctx.cwd = cwd;
	std::free(cwd);
	Config c = targets_of(o, ctx.cwd);
	ctx.tools = find_tools();
	for (char** e = environ; *e != nullptr; e++) ctx.env.emplace_back(*e);
	ctx.base_dir = c.dir;
	ctx.modules = o.modules;
	forward_signals();
	std::vector<TargetResult> results;
	for (const Target& t : c.targets) {
		results.push_back(run_target(t, ctx));
		const TargetResult& r = results.back();
		// The one-liner is COMMAND: it speaks only when it failed.
		if (!o.one_liner() || !r.passed) std::fprintf(stderr, "%s\n", status_line(r).c_str());
		if (cancelled()) break;
	}
	std::string report = render(o.format, results);
	write_all(1, report, "stdout");
	return exit_status(o, results, cancelled());
}

}  // namespace bencher::vmtest
