// initramfs-tool: a test driver over lib/vmtest (not installed, not a user
// program: bencher-vmtest calls the library). The KVM suite builds its
// initramfs with it, and asks it what a kernel lacks.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "vmtest/initramfs.hh"
#include "vmtest/kmod.hh"

using namespace bencher;

namespace {

const char kHelp[] =
    "Usage: initramfs-tool --init FILE [--kernel K [--modules DIR]] [--file GUEST=HOST]... -o OUT\n"
    "       initramfs-tool --check-kernel K [--modules DIR]\n"
    "The first form writes bencher-vmtest's initramfs for kernel K (its modules\n"
    "from DIR or found beside it) to OUT; the second prints what K lacks and\n"
    "exits 1 if anything.\n";

int check(const std::string& kernel, const std::string& modules) {
	vmtest::KernelCheck c = vmtest::check_kernel(kernel, modules);
	printf("release %s\nfrom %s\n", c.release.c_str(), c.config_source.c_str());
	for (const auto& m : c.modules) printf("module %s\n", m.c_str());
	for (const auto& u : c.unknown) printf("unknown %s\n", u.c_str());
	for (const auto& l : c.lacks) printf("lacks %s\n", l.c_str());
	return c.ok() ? 0 : 1;
}

void build(vmtest::InitramfsSpec spec, const std::string& kernel, const std::string& modules, const std::string& out) {
	if (!kernel.empty()) {
		std::string release = vmtest::kernel_release(kernel);
		if (auto dir = vmtest::find_modules_dir(kernel, release, modules)) {
			vmtest::ModulePlan p = vmtest::modules_needed(release, *dir);
			if (!p.missing.empty()) fail(kernel + ": has no module " + p.missing[0]);
			spec.modules = p.load;
		}
	}
	UniqueFd fd = vmtest::build_initramfs(spec);
	std::string bytes = read_all(fd.get(), 1u << 30, "initramfs");
	UniqueFd o = open_file(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	write_all(o.get(), bytes, out);
}

}  // namespace

int main(int argc, char** argv) {
	return run_main("initramfs-tool", [&] {
		vmtest::InitramfsSpec spec;
		std::string kernel, modules, out, check_kernel;
		cli::Parser p({"initramfs-tool", kHelp});
		p.value("init", 0, [&](const std::string& v) { spec.init = v; });
		p.value("kernel", 0, [&](const std::string& v) { kernel = v; });
		p.value("modules", 0, [&](const std::string& v) { modules = v; });
		p.value("file", 0, [&](const std::string& v) {
			size_t eq = v.find('=');
			if (eq == std::string::npos) fail_usage("--file: GUEST=HOST");
			spec.files.emplace_back(v.substr(0, eq), v.substr(eq + 1));
		});
		p.value("output", 'o', [&](const std::string& v) { out = v; });
		p.value("check-kernel", 0, [&](const std::string& v) { check_kernel = v; });
		if (!p.parse(argc, argv).empty()) fail_usage("no operands");
		if (!check_kernel.empty()) return check(check_kernel, modules);
		if (spec.init.empty() || out.empty()) fail_usage("--init and -o are needed");
		build(spec, kernel, modules, out);
		return 0;
	});
}
