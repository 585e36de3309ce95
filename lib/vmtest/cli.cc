// cli.cc: bencher-vmtest's command line (cli.hh). vmtest's rules: -k and -c
// exclude each other, -f only filters a config file's targets, and the
// one-liner's COMMAND words are joined by spaces for bash -c.
#include "vmtest/cli.hh"

#include <regex>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/exit_codes.hh"

namespace bencher::vmtest {

namespace {

const char kHelp[] =
    "Usage: bencher-vmtest -k KERNEL [--kargs STR] [-r ROOTFS_DIR] [OPTIONS] -- COMMAND...\n"
    "       bencher-vmtest [-c FILE] [-f REGEX] [OPTIONS]\n"
    "       bencher-vmtest --check-kernel KERNEL [--modules DIR]\n"
    "Run COMMAND (with bash -c) under KERNEL in a KVM micro-VM whose root is the\n"
    "host's, read-only, with guest writes kept in RAM; or run the targets of a\n"
    "vmtest.toml. COMMAND runs in the current directory with this environment;\n"
    "its output streams back as it is produced.\n"
    "\n"
    "  -k, --kernel KERNEL    kernel to boot (ELF vmlinux or bzImage)\n"
    "      --kargs STR        append STR to the kernel command line\n"
    "  -r, --rootfs DIR       share DIR as the guest's root instead of /\n"
    "  -c, --config FILE      targets from FILE (default ./vmtest.toml)\n"
    "  -f, --filter REGEX     run only the targets whose name REGEX matches\n"
    "      --modules DIR      a modular kernel's modules (default /lib/modules/RELEASE)\n"
    "      --format FMT       text (default), tap or junit: the summary on stdout\n"
    "      --check-kernel K   say what kernel K lacks for bencher-vmtest, and exit\n"
    "      --log-level LEVEL  error, warn (default), info or debug\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "Exit status: the one-liner's is COMMAND's; a config file's is the number of\n"
    "targets that failed; 69 the machinery failed (kernel unreadable, VMM or\n"
    "virtiofsd error); 2 usage or a bad vmtest.toml. See bencher-vmtest(1).\n";

std::string base_name(const std::string& path) {
	size_t slash = path.find_last_not_of('/');
	if (slash == std::string::npos) return path;
	std::string trimmed = path.substr(0, slash + 1);
	return trimmed.substr(trimmed.rfind('/') + 1);
}

void check_combinations(const Options& o, bool filter_given) {
	if (!o.check_kernel.empty()) {
		if (o.one_liner() || !o.config.empty() || filter_given || !o.command.empty())
			fail_usage("--check-kernel takes no other target");
		return;
	}
	if (o.one_liner()) {
		if (!o.config.empty()) fail_usage("-k and -c exclude each other");
		if (o.command.empty()) fail_usage("-k: no COMMAND given");
		return;
	}
	if (!o.kargs.empty()) fail_usage("--kargs needs -k");
	if (!o.rootfs.empty()) fail_usage("-r needs -k");
	if (!o.command.empty()) fail_usage("a COMMAND needs -k (targets of a config file have their own)");
}

}  // namespace

Options parse_args(int argc, char** argv) {
	Options o;
	bool filter_given = false;
	cli::Parser p({"bencher-vmtest", kHelp});
	p.value("kernel", 'k', [&](const std::string& v) { o.kernel = v; })
	    .value("kargs", 0, [&](const std::string& v) { o.kargs = v; })
	    .value("rootfs", 'r', [&](const std::string& v) { o.rootfs = v; })
	    .value("config", 'c', [&](const std::string& v) { o.config = v; })
	    .value("filter", 'f', [&](const std::string& v) {
		    o.filter = v;
		    filter_given = true;
	    })
	    .value("modules", 0, [&](const std::string& v) { o.modules = v; })
	    .value("format", 0, [&](const std::string& v) { o.format = parse_format(v); })
	    .value("check-kernel", 0, [&](const std::string& v) { o.check_kernel = v; });
	o.command = p.parse(argc, argv);
	check_combinations(o, filter_given);
	return o;
}

Config targets_of(const Options& o, const std::string& cwd) {
	if (o.one_liner()) {
		Target t;
		t.name = base_name(o.kernel);
		t.kernel = absolute_from(cwd, o.kernel);
		t.kernel_args = o.kargs;
		t.rootfs = o.rootfs.empty() ? "/" : absolute_from(cwd, o.rootfs);
		for (const std::string& w : o.command) t.command += (t.command.empty() ? "" : " ") + w;
		return Config{cwd, {t}};
	}
	std::regex re;
	try {
		re = std::regex(o.filter.empty() ? ".*" : o.filter, std::regex::ECMAScript);
	} catch (const std::regex_error& e) {
		fail_usage("-f: '" + o.filter + "': not a regular expression: " + e.what());
	}
	Config c = load_config(absolute_from(cwd, o.config.empty() ? "vmtest.toml" : o.config));
	std::vector<Target> keep;
	for (Target& t : c.targets)
		if (std::regex_search(t.name, re)) keep.push_back(std::move(t));
	c.targets = std::move(keep);
	return c;
}

int exit_status(const Options& o, const std::vector<TargetResult>& results, int cancel_signal) {
	if (cancel_signal) return exit_codes::signal_code(cancel_signal);
	if (o.one_liner()) return results.empty() ? exit_codes::kVmtestMachinery : results.front().exit_code;
	int failed = 0;
	for (const TargetResult& r : results) failed += r.passed ? 0 : 1;
	return failed < 127 ? failed : 127;
}

}  // namespace bencher::vmtest
