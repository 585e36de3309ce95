// cli.cc: bencher-plan's command line and its two answers (cli.hh): the
// runner's values as shell assignments, or the plan (run.json, the dry-run
// document, the cached rootfs's name).
#include "runner/cli.hh"

#include <cerrno>
#include <cstdlib>

#include <sys/stat.h>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "common/json.hh"
#include "config.h"
#include "runner/cache.hh"
#include "runner/options.hh"
#include "runner/plan.hh"

namespace bencher::runner {

namespace {

const char kHelp[] =
    "Usage: bencher-plan [OPTIONS] -- run|prepare [ARG...]\n"
    "bencher-runner's planner. Checks a `bencher-runner run` or `prepare` command\n"
    "line and prints its values as shell assignments to eval; with --image-config,\n"
    "plans the run instead and prints image_digest and rootfs.\n"
    "\n"
    "  --run-dir-in DIR      also make a private run directory in DIR and print\n"
    "                        its path as work= (saves the script a mktemp)\n"
    "  --image-config FILE   oci-unpack's --config-out summary of the image\n"
    "  --init FILE           bencher-init, whose digest is part of the cache key\n"
    "  --cache-dir DIR       the runner's cache (rootfs/, init-digest/)\n"
    "  --run-out FILE        write the run config (collect-results --config) to FILE\n"
    "  --dry-run-out FILE    write what `run --dry-run` prints to FILE\n"
    "  --kernel FILE         the kernel named in --dry-run-out\n"
    "  --log-level LEVEL     error, warn (default), info or debug\n"
    "  -h, --help, --version\n"
    "\n"
    "Errors about the runner's command line or image are reported as\n"
    "bencher-runner's. Exit status: 0 ok; 1 error; 2 usage; 125 the image has\n"
    "nothing to run or no digest. See bencher-plan(1).\n";

struct PlanFiles {
	std::string run_dir_in, image_config, init, cache_dir, run_out, dry_run_out, kernel;
};

// The plan: run.json (and the --dry-run document) written, the cache entry
// named. prepare needs only the name.
std::string plan(const PlanFiles& f, const Options& o) {
	if (f.init.empty() || f.cache_dir.empty()) fail_usage("--image-config needs --init and --cache-dir");
	ImageConfig image = parse_image_config(read_file(f.image_config, kMaxImageConfigBytes + 1), f.image_config);
	std::string rootfs;
	auto name_rootfs = [&] {
		RootfsKey key{image.digest, file_digest_memo(f.init, f.cache_dir + "/init-digest"), o.disk, PACKAGE_VERSION};
		rootfs = f.cache_dir + "/rootfs/" + rootfs_key(key) + ".ext4";
	};
	if (o.verb == Verb::run) {
		// No command is found out before the rootfs is looked at.
		RunConfig run = plan_run(image, o);
		name_rootfs();
		if (!f.run_out.empty()) json::save_file(f.run_out, run_json(run), false);
		if (!f.dry_run_out.empty()) json::save_file(f.dry_run_out, dry_run_json(run, rootfs, f.kernel));
	} else {
		name_rootfs();
	}
	return "image_digest=" + shell_quote(image.digest) + "\nrootfs=" + shell_quote(rootfs) + "\n";
}

// A fresh directory only this user can enter, for the run's files.
// With jail/ in it, the root bencher-jailer is given: made here, not by a
// mkdir(1) the script would start (a process start costs 80-200 ms in the
// TCG test host).
std::string make_run_dir(const std::string& parent) {
	std::string path = parent + "/bencher-run.XXXXXX";
	if (mkdtemp(path.data()) == nullptr) fail_errno("cannot create a run directory in " + parent, errno, kExitRunner);
	if (::mkdir((path + "/jail").c_str(), 0755) < 0) fail_errno("cannot create " + path + "/jail", errno, kExitRunner);
	return path;
}

}  // namespace

void plan_main(int argc, char** argv) {
	PlanFiles f;
	cli::Parser p({"bencher-plan", kHelp});
	p.value("run-dir-in", 0, [&](const std::string& v) { f.run_dir_in = v; })
	    .value("image-config", 0, [&](const std::string& v) { f.image_config = v; })
	    .value("init", 0, [&](const std::string& v) { f.init = v; })
	    .value("cache-dir", 0, [&](const std::string& v) { f.cache_dir = v; })
	    .value("run-out", 0, [&](const std::string& v) { f.run_out = v; })
	    .value("dry-run-out", 0, [&](const std::string& v) { f.dry_run_out = v; })
	    .value("kernel", 0, [&](const std::string& v) { f.kernel = v; });
	std::vector<std::string> args = p.parse(argc, argv);
	// From here on the messages are about the runner's command line.
	set_program_name("bencher-runner");
	Options o = parse_options(args);
	std::string out = f.image_config.empty() || o.help ? shell_assignments(o) : plan(f, o);
	if (!f.run_dir_in.empty() && !o.help) out += "work=" + shell_quote(make_run_dir(f.run_dir_in)) + "\n";
	write_all(1, out, "stdout");
}

}  // namespace bencher::runner
