// pipeline.hh: one target, end to end, on the toolchain bencher-runner uses:
// an initramfs with bencher-init, one sandboxed virtiofsd per share, run.json
// (bash -c COMMAND, the caller's environment and directory, the shared root
// under a RAM overlay), then collect-results -- bencher-jailer --
// bencher-vmm, whose output streams straight through. Every temporary file
// and every virtiofsd is gone when run_target returns or throws.
#pragma once

#include <string>
#include <vector>

#include "vmtest/config.hh"
#include "vmtest/report.hh"

namespace bencher::vmtest {

// Where the programs are: beside bencher-vmtest (installed, or the build
// tree), bencher-init in pkglibexecdir or the build tree.
struct Tools {
	std::string dir;
	std::string init;
};
Tools find_tools();

struct RunContext {
	Tools tools;
	std::string cwd;               // the guest's working directory
	std::vector<std::string> env;  // the guest's environment
	std::string base_dir;          // shared writable at /mnt/vmtest
	std::string modules;           // "" = /lib/modules/RELEASE
};

// Runs `t`. A failure of the target (COMMAND's code, a panic) is in the
// result; one of the machinery is in the result too, with exit code 69 and
// machinery set, so the other targets still run.
TargetResult run_target(const Target& t, const RunContext& ctx);

// SIGINT and SIGTERM are passed on to the running chain; afterwards
// cancelled() says which arrived (0: none).
void forward_signals();
int cancelled();

// run.json for `t` (see bencher-init(8)): exposed for the unit tests.
std::string run_json(const Target& t, const RunContext& ctx, const std::vector<std::string>& mount_tags);

}  // namespace bencher::vmtest
