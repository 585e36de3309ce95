// config.cc: option parsing of config.hh.
#include "vmm/config.hh"

#include "common/cli.hh"
#include "common/error.hh"
#include "common/json.hh"
#include "common/size.hh"

namespace bencher::vmm {

namespace {
const char kHelp[] =
    "Usage: bencher-vmm [OPTIONS]\n"
    "Boot a Linux kernel in a minimal KVM virtual machine.\n"
    "\n"
    "  --kernel FILE | --kernel-fd N      vmlinux (ELF) or bzImage to boot\n"
    "  --rootfs FILE | --rootfs-fd N      root disk image (virtio-blk, /dev/vda)\n"
    "  --rootfs-mode rw|ro|cow            read-write (default), read-only, or private copy-on-write\n"
    "  --initrd FILE | --initrd-fd N      initramfs\n"
    "  --vsock-fd N                       vsock control socket (bencher-vsock(7))\n"
    "  --virtiofs TAG=FD                  virtio-fs device TAG served by the vhost-user backend\n"
    "                                     on connected socket FD (e.g. virtiofsd); up to 8\n"
    "  --kvm-fd N                         an open /dev/kvm (default: open /dev/kvm)\n"
    "  --console FILE | --console-fd N    guest serial console (default: stdout)\n"
    "  --console-limit SIZE               console bytes kept at most (default 16M)\n"
    "  --report FILE | --report-fd N      JSON report written at exit\n"
    "  --vcpus N                          virtual CPUs, 1-32 (default 1)\n"
    "  --memory MiB                       guest memory in MiB (default 512)\n"
    "  --timeout S                        stop the VM after S seconds, 0 = never (default 300)\n"
    "  --cmdline STR                      append to the kernel command line\n"
    "  --cmdline-replace STR              replace the default kernel command line\n"
    "  --verbose                          show the kernel's boot messages (drops `quiet`)\n"
    "  --config FILE                      vm.json with any of these options\n"
    "  --no-cmdline-devices               virtio-mmio devices in ACPI only, not on the command line\n"
    "  --no-seccomp                       no syscall filter (debugging only)\n"
    "  --log-level LEVEL, --help, --version\n"
    "\n"
    "Exit status: 0 guest shut down or rebooted, 1 VMM error, 2 usage, 3 timeout,\n"
    "4 cancelled (SIGTERM/SIGINT), 5 guest kernel panic, 6 triple fault or KVM error.\n";

// A bad number on the command line is a usage error (exit 2).
uint64_t num(const std::string& s, const char* what, uint64_t min, uint64_t max) {
	try {
		return parse_uint(s, what, min, max);
	} catch (const Error& e) {
		fail_usage(e.what());
	}
}

int parse_fd(const std::string& s, const char* what) { return static_cast<int>(num(s, what, 0, 1 << 20)); }

void path_only(FileArg& f, const std::string& v) {
	f.path = v;
	f.fd = -1;
}
void fd_only(FileArg& f, const std::string& v, const char* what) {
	f.fd = parse_fd(v, what);
	f.path.clear();
}

// TAG=FD, split at the last '=' (an fd has none); the tag is checked in finalize.
VirtiofsArg parse_virtiofs(const std::string& v) {
	auto eq = v.rfind('=');
	if (eq == std::string::npos) fail_usage("--virtiofs: expected TAG=FD, got '" + v + "'");
	return {v.substr(0, eq), parse_fd(v.substr(eq + 1), "--virtiofs FD")};
}

void check_virtiofs(const std::vector<VirtiofsArg>& shares) {
	if (shares.size() > kMaxVirtiofs) fail_usage(strprintf("--virtiofs: at most %zu devices", kMaxVirtiofs));
	for (size_t i = 0; i < shares.size(); i++) {
		const std::string& t = shares[i].tag;
		if (t.empty() || t.size() > 36 || t.find('\0') != std::string::npos)
			fail_usage("--virtiofs: tag '" + t + "': 1 to 36 bytes");
		for (size_t j = 0; j < i; j++)
			if (shares[j].tag == t) fail_usage("--virtiofs: tag '" + t + "' given twice");
	}
}
}  // namespace

std::string FileArg::name() const { return fd >= 0 ? strprintf("fd %d", fd) : path; }

Options parse_args(int argc, char** argv) {
	Options o;
	cli::Parser p({"bencher-vmm", kHelp});
	p.value("kernel", 0, [&](const std::string& v) { path_only(o.kernel, v); })
	    .value("kernel-fd", 0, [&](const std::string& v) { fd_only(o.kernel, v, "--kernel-fd"); })
	    .value("rootfs", 0, [&](const std::string& v) { path_only(o.rootfs, v); })
	    .value("rootfs-fd", 0, [&](const std::string& v) { fd_only(o.rootfs, v, "--rootfs-fd"); })
	    .value("rootfs-mode", 0, [&](const std::string& v) { o.rootfs_mode = v; })
	    .value("initrd", 0, [&](const std::string& v) { path_only(o.initrd, v); })
	    .value("initrd-fd", 0, [&](const std::string& v) { fd_only(o.initrd, v, "--initrd-fd"); })
	    .value("vsock-fd", 0, [&](const std::string& v) { o.vsock_fd = parse_fd(v, "--vsock-fd"); })
	    .value("virtiofs", 0, [&](const std::string& v) { o.virtiofs.push_back(parse_virtiofs(v)); })
	    .value("kvm-fd", 0, [&](const std::string& v) { fd_only(o.kvm, v, "--kvm-fd"); })
	    .value("console", 0, [&](const std::string& v) { path_only(o.console, v); })
	    .value("console-fd", 0, [&](const std::string& v) { fd_only(o.console, v, "--console-fd"); })
	    .value("console-limit", 0, [&](const std::string& v) { 
		    try {
			    o.console_limit = parse_size(v, "--console-limit");
		    } catch (const Error& e) {
			    fail_usage(e.what());
		    }
	    })
	    .value("report", 0, [&](const std::string& v) { path_only(o.report, v); })
	    .value("report-fd", 0, [&](const std::string& v) { fd_only(o.report, v, "--report-fd"); })
	    .value("vcpus", 0, [&](const std::string& v) { o.vcpus = static_cast<uint32_t>(num(v, "--vcpus", 1, 32)); })
	    .value("memory", 0, [&](const std::string& v) { o.memory_mib = num(v, "--memory", 32, 1 << 20); })
	    .value("timeout", 0, [&](const std::string& v) { o.timeout_s = num(v, "--timeout", 0, 1u << 30); })
	    .value("cmdline", 0, [&](const std::string& v) { o.cmdline_append = v; })
	    .value("cmdline-replace", 0, [&](const std::string& v) { o.cmdline_replace = v; })
	    .value("config", 0, [&](const std::string& v) { o.config_path = v; })
	    .flag("verbose", 'v', [&] { o.verbose = true; })
	    .flag("no-cmdline-devices", 0, [&] { o.no_cmdline_devices = true; })
	    .flag("no-seccomp", 0, [&] { o.no_seccomp = true; });
	auto rest = p.parse(argc, argv);
	if (!rest.empty()) fail_usage("unexpected argument: " + rest.front());
	return o;
}

void merge_json(Options& o, const std::string& text, const std::string& source) {
	auto v = json::parse(text, source);
	auto obj = json::root_object(v, source);
	auto file = [&](FileArg& f, const char* key, const char* fd_key) {
		auto p = obj.opt_str(key);
		auto n = obj.opt_integer(fd_key, 0, 1 << 20);
		if (p && n) fail_usage(strprintf("%s: %s and %s are exclusive", source.c_str(), key, fd_key));
		if (f.set()) return;
		if (p) f.path = *p;
		if (n) f.fd = static_cast<int>(*n);
	};
	file(o.kernel, "kernel", "kernel_fd");
	file(o.rootfs, "rootfs", "rootfs_fd");
	file(o.initrd, "initrd", "initrd_fd");
	file(o.console, "console", "console_fd");
	file(o.report, "report", "report_fd");
	if (auto m = obj.opt_str("rootfs_mode"); m && !o.rootfs_mode) o.rootfs_mode = m;
	if (auto n = obj.opt_integer("vsock_fd", 0, 1 << 20); n && !o.vsock_fd) o.vsock_fd = static_cast<int>(*n);
	if (auto a = obj.opt_array("virtiofs"); a && o.virtiofs.empty()) {
		for (size_t i = 0; i < a->size(); i++) {
			auto e = a->object_at(i);
			o.virtiofs.push_back({e.str("tag"), static_cast<int>(e.integer("fd", 0, 1 << 20))});
			e.finish();
		}
	}
	if (auto n = obj.opt_integer("kvm_fd", 0, 1 << 20); n && !o.kvm.set()) o.kvm.fd = static_cast<int>(*n);
	if (auto n = obj.opt_integer("vcpus", 1, 32); n && !o.vcpus) o.vcpus = static_cast<uint32_t>(*n);
	if (auto n = obj.opt_integer("memory", 32, 1 << 20); n && !o.memory_mib) o.memory_mib = static_cast<uint64_t>(*n);
	if (auto n = obj.opt_integer("timeout", 0, 1 << 30); n && !o.timeout_s) o.timeout_s = static_cast<uint64_t>(*n);
	if (auto n = obj.opt_integer("console_limit", 0, INT64_MAX); n && !o.console_limit) o.console_limit = static_cast<uint64_t>(*n);
	if (auto s = obj.opt_str("cmdline"); s && !o.cmdline_append) o.cmdline_append = s;
	if (auto s = obj.opt_str("cmdline_replace"); s && !o.cmdline_replace) o.cmdline_replace = s;
	if (auto b = obj.opt_boolean("verbose"); b && *b) o.verbose = true;
	if (auto b = obj.opt_boolean("no_seccomp"); b && *b) o.no_seccomp = true;
	if (auto b = obj.opt_boolean("no_cmdline_devices"); b && *b) o.no_cmdline_devices = true;
	obj.finish();
}

VmConfig finalize(const Options& o) {
	if (!o.kernel.set()) fail_usage("no kernel: give --kernel FILE or --kernel-fd N");
	VmConfig c;
	c.kernel = o.kernel;
	c.rootfs = o.rootfs;
	c.initrd = o.initrd;
	c.console = o.console;
	c.report = o.report;
	c.kvm = o.kvm;
	if (o.rootfs_mode) {
		const std::string& m = *o.rootfs_mode;
		if (m == "rw") c.rootfs_mode = RootfsMode::rw;
		else if (m == "ro") c.rootfs_mode = RootfsMode::ro;
		else if (m == "cow") c.rootfs_mode = RootfsMode::cow;
		else fail_usage("--rootfs-mode: expected rw, ro or cow, got '" + m + "'");
	}
	c.vsock_fd = o.vsock_fd;
	check_virtiofs(o.virtiofs);
	c.virtiofs = o.virtiofs;
	c.vcpus = o.vcpus.value_or(c.vcpus);
	c.memory_mib = o.memory_mib.value_or(c.memory_mib);
	c.timeout_s = o.timeout_s.value_or(c.timeout_s);
	c.cmdline_append = o.cmdline_append;
	c.cmdline_replace = o.cmdline_replace;
	c.console_limit = o.console_limit.value_or(c.console_limit);
	c.verbose = o.verbose;
	c.no_seccomp = o.no_seccomp;
	c.no_cmdline_devices = o.no_cmdline_devices;
	return c;
}

std::string build_cmdline(const VmConfig& o, const std::string& devices) {
	std::string base = o.cmdline_replace ? *o.cmdline_replace : kDefaultCmdline;
	if (o.verbose && !o.cmdline_replace) {
		auto pos = base.find(" quiet");
		if (pos != std::string::npos) base.erase(pos, 6);
	}
	std::string s = o.no_cmdline_devices ? "" : devices;
	if (!base.empty()) s += (s.empty() ? "" : " ") + base;
	if (o.cmdline_append && !o.cmdline_append->empty()) s += (s.empty() ? "" : " ") + *o.cmdline_append;
	return s;
}

}  // namespace bencher::vmm
