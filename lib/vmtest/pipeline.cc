// pipeline.cc: one target through the toolchain (pipeline.hh). The chain is
// bencher-runner's (collect-results -- bencher-jailer -- bencher-vmm, the
// same fds at the same numbers); what differs is the guest's root: virtio-fs
// shares and an initramfs instead of an ext4 image.
#include "vmtest/pipeline.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <memory>

#include "common/error.hh"
#include "common/exit_codes.hh"
#include "common/fd.hh"
#include "common/json.hh"
#include "results/protocol.hh"
#include "vmtest/initramfs.hh"
#include "vmtest/kmod.hh"
#include "vmtest/share.hh"

namespace bencher::vmtest {

namespace {

namespace xc = exit_codes;

// The fds the chain is given, as bencher-runner gives them (see its
// run_once): the jailer passes them on to the VMM at the same numbers.
constexpr int kVsockFd = 3, kKernelFd = 10, kInitrdFd = 11, kReportFd = 12, kKvmFd = 13, kFirstShareFd = 20;

volatile sig_atomic_t g_signal = 0;
volatile pid_t g_child = 0;

void on_signal(int sig) {
	g_signal = sig;
	if (g_child > 0) ::kill(g_child, sig);
}

uint64_t now_ms() {
	timespec ts{};
	::clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void check_cancelled() {
	if (g_signal) throw Error(strprintf("cancelled by signal %d", static_cast<int>(g_signal)), xc::signal_code(g_signal));
}

// The shares of a target: the root read-only, the base directory writable at
// /mnt/vmtest (as vmtest does), then the target's mounts.
std::vector<Share> shares_of(const Target& t, const RunContext& ctx) {
	std::vector<Share> s = {{"root", t.rootfs, false}, {"vmtest", ctx.base_dir, true}};
	for (size_t i = 0; i < t.mounts.size(); i++)
		s.push_back({strprintf("mount%zu", i), t.mounts[i].host_path, t.mounts[i].writable});
	return s;
}

// What the guest kernel needs from the initramfs and the VMM: a modular
// kernel's modules, dependencies first (none for a kernel that has them
// built in, with no modules directory), and whether it finds the devices
// through ACPI, so that they are left off its command line.
struct GuestKernel {
	std::vector<std::string> modules;
	bool acpi = false;
};

GuestKernel guest_kernel(const std::string& kernel, const std::string& given) {
	std::string release = kernel_release(kernel);
	std::optional<std::string> dir = find_modules_dir(kernel, release, given);
	ModulePlan plan;
	if (dir) plan = modules_needed(release, *dir);
	return {plan.load, acpi_devices(kernel, release, dir, plan)};
}

// The whole chain's argv, bencher-runner's, with the initramfs and the
// virtio-fs sockets in place of the root disk.
std::vector<std::string> chain_argv(const Target& t, const RunContext& ctx, const std::string& work,
				    const std::vector<std::string>& tags, bool acpi) {
	const std::string& dir = ctx.tools.dir;
	std::vector<std::string> a = {dir + "/collect-results", "--config", work + "/run.json", "--out",
				      work + "/results.json", "--no-metrics", "--no-hmac-notice", "--vmm-report", work + "/vmm-report.json",
				      "--console-log", work + "/console.log", "--max-output-size", "1T", "--",
				      dir + "/bencher-jailer", "--id", strprintf("vmtest-%d", static_cast<int>(::getpid())),
				      "--exec", dir + "/bencher-vmm", "--jail-root", work + "/jail",
				      "--memory", strprintf("%lluM", static_cast<unsigned long long>(t.memory_mib + 256)),
				      "--cpu", strprintf("%u", t.num_cpus + 1), "--pids", "128",
				      "--keep-fd", strprintf("%d", kVsockFd), "--fd", strprintf("%s:%d", t.kernel.c_str(), kKernelFd),
				      "--keep-fd", strprintf("%d", kInitrdFd), "--fd", strprintf("%s/vmm-report.json:%d:rw", work.c_str(), kReportFd),
				      "--fd", strprintf("/dev/kvm:%d:rw", kKvmFd)};
	for (size_t i = 0; i < tags.size(); i++) {
		a.push_back("--keep-fd");
		a.push_back(strprintf("%zu", kFirstShareFd + i));
	}
	// panic=-1: a panic reboots at once, so it is reported within moments,
	// not after the default's countdown (slow where the guest is emulated).
	std::string cmdline = "panic=-1" + (t.kernel_args.empty() ? "" : " " + t.kernel_args);
	for (const char* s : {"--", "--kernel-fd", "10", "--initrd-fd", "11", "--kvm-fd", "13", "--vsock-fd", "3",
			      "--report-fd", "12", "--timeout", "0", "--cmdline"})
		a.emplace_back(s);
	a.push_back(cmdline);
	a.push_back("--vcpus");
	a.push_back(strprintf("%u", t.num_cpus));
	a.push_back("--memory");
	a.push_back(strprintf("%llu", static_cast<unsigned long long>(t.memory_mib)));
	for (size_t i = 0; i < tags.size(); i++) {
		a.push_back("--virtiofs");
		a.push_back(strprintf("%s=%zu", tags[i].c_str(), kFirstShareFd + i));
	}
	if (acpi) a.push_back("--no-cmdline-devices");
	return a;
}

// In the child: the fds at their numbers, signals as a fresh process has
// them, then collect-results.
[[noreturn]] void exec_chain(const std::vector<std::string>& argv, int initrd, const std::vector<int>& shares) {
	sigset_t none;
	sigemptyset(&none);
	::sigprocmask(SIG_SETMASK, &none, nullptr);
	::signal(SIGINT, SIG_DFL);
	::signal(SIGTERM, SIG_DFL);
	// Out of the way first, so placing one cannot close another.
	std::vector<int> from = {initrd};
	from.insert(from.end(), shares.begin(), shares.end());
	bool ok = true;
	for (int& fd : from) ok = ok && (fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 100)) >= 0;
	for (size_t i = 0; ok && i < from.size(); i++) {
		int to = i == 0 ? kInitrdFd : kFirstShareFd + static_cast<int>(i - 1);
		ok = ::dup2(from[i], to) == to;
	}
	if (ok) {
		std::vector<char*> args;
		for (const std::string& s : argv) args.push_back(const_cast<char*>(s.c_str()));
		args.push_back(nullptr);
		::execv(args[0], args.data());
	}
	std::fprintf(stderr, "%s: %s: %s\n", program_name().c_str(), argv[0].c_str(), std::strerror(errno));
	_exit(xc::kVmtestMachinery);
}

int wait_chain(pid_t pid) {
	g_child = pid;
	int st = 0;
	while (::waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			g_child = 0;
			fail_errno("waitpid", errno, xc::kVmtestMachinery);
		}
	}
	g_child = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : xc::signal_code(WTERMSIG(st));
}

// The kernel's panic line from the console log ("Kernel panic - not
// syncing: sysrq triggered crash").
std::string panic_line(const std::string& console) {
	std::string text;
	try {
		text = read_file(console, 16u << 20);
	} catch (const Error&) {
		return "Kernel panic (no console log)";
	}
	size_t at = text.find("Kernel panic - not syncing");
	if (at == std::string::npos) return "Kernel panic";
	size_t end = text.find_first_of("\r\n", at);
	return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// What collect-results' results JSON says about the run.
void read_results(const std::string& work, int status, TargetResult& r) {
	std::string outcome = "vmm_error";
	std::optional<int64_t> code;
	std::string error;
	try {
		json::Object o = json::root_object(json::load_file(work + "/results.json"), "results.json");
		outcome = o.str("outcome");
		json::Value c = o.value("exit_code");
		if (json_is_integer(c.get())) code = json_integer_value(c.get());
		json::Value e = o.value("error");
		if (json_is_string(e.get())) error = json_string_value(e.get());
	} catch (const Error& e) {
		error = e.what();
	}
	r.outcome = outcome;
	if (outcome == "passed" || outcome == "failed") {
		r.passed = outcome == "passed";
		r.exit_code = static_cast<int>(code.value_or(status));
		r.message = r.passed ? "" : strprintf("exit code %d", r.exit_code);
		return;
	}
	if (outcome == "cancelled") {
		r.exit_code = status;
		r.message = "cancelled";
		return;
	}
	r.exit_code = xc::kVmtestMachinery;
	if (outcome == "guest_panic") {
		r.message = panic_line(work + "/console.log");
		return;
	}
	r.machinery = true;
	r.message = "the VM did not run COMMAND to its end (" + outcome + (error.empty() ? "" : ": " + error) + ")";
}

// After the machinery failed: what the kernel lacks, if it lacks anything
// (a kernel with neither ACPI nor command-line virtio-mmio devices boots,
// but never reaches its devices), and what virtiofsd said.
void explain_failure(const Target& t, const RunContext& ctx, const std::string& work, TargetResult& r) {
	try {
		KernelCheck c = check_kernel(t.kernel, ctx.modules);
		if (!c.ok()) r.message += "; the kernel lacks " + c.lacks.front();
	} catch (const Error&) {
	}
	std::string log;
	try {
		log = read_file(work + "/virtiofsd.log", 64u << 10);
	} catch (const Error&) {
	}
	if (!log.empty()) std::fprintf(stderr, "%s: virtiofsd said:\n%s", program_name().c_str(), log.c_str());
}

void run_chain(const Target& t, const RunContext& ctx, const std::string& work, TargetResult& r) {
	UniqueFd kernel(::open(t.kernel.c_str(), O_RDONLY | O_CLOEXEC));
	if (!kernel) fail_errno("kernel " + t.kernel, errno, xc::kVmtestMachinery);
	if (::mkdir((work + "/jail").c_str(), 0755) < 0) fail_errno("mkdir " + work + "/jail", errno, xc::kVmtestMachinery);
	GuestKernel gk = guest_kernel(t.kernel, ctx.modules);
	InitramfsSpec spec;
	spec.init = ctx.tools.init;
	spec.modules = gk.modules;
	UniqueFd initrd = build_initramfs(spec);
	std::vector<std::unique_ptr<Virtiofsd>> fs;
	std::vector<std::string> tags;
	std::vector<int> socks;
	for (const Share& s : shares_of(t, ctx)) {
		check_cancelled();
		fs.push_back(std::make_unique<Virtiofsd>(s, work, work + "/virtiofsd.log"));
		tags.push_back(s.tag);
		socks.push_back(fs.back()->socket());
	}
	json::save_file(work + "/run.json", json::parse(run_json(t, ctx, tags), "run.json"), false);
	UniqueFd report(::open((work + "/vmm-report.json").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	std::vector<std::string> argv = chain_argv(t, ctx, work, tags, gk.acpi);
	check_cancelled();
	pid_t pid = ::fork();
	if (pid < 0) fail_errno("fork", errno, xc::kVmtestMachinery);
	if (pid == 0) exec_chain(argv, initrd.get(), socks);
	int status = wait_chain(pid);
	read_results(work, status, r);
	if (r.machinery) explain_failure(t, ctx, work, r);
}

// The run directory, gone: virtiofsd's sandboxed child may still hold its
// view of a share for a moment after its parent was waited for, so a
// failure is retried briefly, then said.
void remove_run_dir(const std::string& path) {
	for (int i = 0;; i++) {
		try {
			remove_tree(path);
			return;
		} catch (const Error& e) {
			if (i == 20) {
				std::fprintf(stderr, "%s: warning: %s\n", program_name().c_str(), e.what());
				return;
			}
		}
		::usleep(100 * 1000);
	}
}

}  // namespace

Tools find_tools() {
	char buf[PATH_MAX];
	ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0) fail_errno("/proc/self/exe", errno, xc::kVmtestMachinery);
	std::string self(buf, static_cast<size_t>(n));
	Tools t;
	t.dir = self.substr(0, self.rfind('/'));
	struct stat st {};
	// Uninstalled, in the build tree, as bencher-runner tells them apart.
	bool build_tree = ::stat((t.dir + "/config.status").c_str(), &st) == 0;
	t.init = build_tree ? t.dir + "/bencher-init" : std::string(PKGLIBEXECDIR) + "/bencher-init";
	return t;
}

std::string run_json(const Target& t, const RunContext& ctx, const std::vector<std::string>& tags) {
	json::Value argv = json::Value::array();
	for (const char* a : {"/bin/bash", "-c"}) argv.append(json::Value::string(a));
	argv.append(json::Value::string(t.command));
	json::Value env = json::Value::array();
	for (const std::string& e : ctx.env) env.append(json::Value::string(e));
	json::Value root = json::Value::object();
	root.set("virtiofs", json::Value::string(tags.at(0)));
	json::Value mounts = json::Value::array();
	auto mount = [&](const std::string& tag, const std::string& path, bool writable) {
		json::Value m = json::Value::object();
		m.set("tag", json::Value::string(tag));
		m.set("path", json::Value::string(path));
		m.set("writable", json::Value::boolean(writable));
		mounts.append(std::move(m));
	};
	mount(tags.at(1), "/mnt/vmtest", true);
	for (size_t i = 0; i < t.mounts.size(); i++) mount(tags.at(i + 2), t.mounts[i].guest_path, t.mounts[i].writable);
	json::Value r = json::Value::object();
	r.set("argv", std::move(argv));
	r.set("env", std::move(env));
	r.set("workdir", json::Value::string(ctx.cwd));
	r.set("root", std::move(root));
	r.set("mounts", std::move(mounts));
	// vmtest passes all of COMMAND's output on; the limit is only a bound.
	r.set("max_output_bytes", json::Value::integer(static_cast<int64_t>(results::kMaxLimit)));
	return json::dump(r);
}

TargetResult run_target(const Target& t, const RunContext& ctx) {
	TargetResult r;
	r.name = t.name;
	uint64_t t0 = now_ms();
	try {
		TempDir work("bencher-vmtest");
		ScopeGuard clean([&] { remove_run_dir(work.path()); });
		run_chain(t, ctx, work.path(), r);
	} catch (const Error& e) {
		bool cancel = g_signal != 0;
		r.passed = false;
		r.machinery = !cancel;
		r.outcome = cancel ? "cancelled" : "runner_error";
		r.exit_code = cancel ? xc::signal_code(g_signal) : xc::kVmtestMachinery;
		r.message = e.what();
	}
	r.duration_ms = now_ms() - t0;
	return r;
}

void forward_signals() {
	struct sigaction sa {};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	::sigaction(SIGINT, &sa, nullptr);
	::sigaction(SIGTERM, &sa, nullptr);
}

int cancelled() { return g_signal; }

}  // namespace bencher::vmtest
