// workload.cc: preparing, starting and streaming the workload (see
// workload.hh). The parent prepares everything that may allocate or fail
// with a message; the forked child only applies it, with async-signal-safe
// calls, and reports a failure as a fixed-size record on a pipe.
#include "guest/workload.hh"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/io.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "common/error.hh"
#include "common/log.hh"
#include "results/user.hh"
#include "vsock/control.hh"

namespace bencher::guest {

using results::ExitRecord;
using results::OutputLimiter;
using results::RunConfig;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kChunk = 64 << 10;
constexpr int kDrainMs = 2000;
constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Everything the child applies, resolved by the parent beforehand.
struct Prepared {
	std::vector<std::string> env;
	results::ResolvedUser user;
	bool set_user = false;
	UniqueFd cgroup_procs;
	int keep_fd = -1;             // test mode: the control fd the workload may try to use
	bool create_workdir = false;  // in the guest only: never make host dirs
};

struct ChildFailure {
	int code;  // exit code to report
	int err;   // errno
	char what[64];
};

[[noreturn]] void child_fail(int fd, int code, int err, const char* what) {
	ChildFailure f{code, err, {}};
	strncpy(f.what, what, sizeof f.what - 1);
	(void)!write(fd, &f, sizeof f);
	_exit(code);
}

// As Docker does, a working directory the image lacks is created (by root,
// 0755) rather than failing the run. In the child: no allocation.
void make_workdir(const std::string& workdir, int fail_w) {
	if (access(workdir.c_str(), F_OK) == 0 || errno != ENOENT) return;
	char dir[results::kMaxPathBytes + 1];
	size_t n = std::min(workdir.size(), sizeof dir - 1);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && workdir[i] != '/') continue;
		memcpy(dir, workdir.data(), i);
		dir[i] = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			child_fail(fail_w, kSetupFailed, errno, "create the working directory");
	}
}

// In the forked child: everything here must be async-signal-safe.
[[noreturn]] void exec_workload(const RunConfig& cfg, const Prepared& p, int out_w, int err_w, int fail_w,
				char* const* argv, char* const* envp) {
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, nullptr);
	for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) signal(s, SIG_DFL);
	setsid();
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		child_fail(fail_w, kSetupFailed, errno, "stdio");
	if (null > 2) ::close(null);
	if (p.keep_fd >= 0) fcntl(p.keep_fd, F_SETFD, fcntl(p.keep_fd, F_GETFD) & ~FD_CLOEXEC);
	// Into the cgroup before execve, so the workload's first instruction
	// already runs (and is counted) there.
	if (p.cgroup_procs) {
		char buf[16];
		int n = snprintf(buf, sizeof buf, "%d", getpid());
		if (write(p.cgroup_procs.get(), buf, static_cast<size_t>(n)) != n)
			child_fail(fail_w, kSetupFailed, errno, "join cgroup");
	}
	// No port I/O for the workload, and no way to ptrace init (its memory
	// holds the HMAC key) even as root: CAP_SYS_PTRACE leaves the bounding
	// set (init itself is not dumpable).
	iopl(0);
	ioperm(0, 65536, 0);
	prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0);
	if (p.create_workdir) make_workdir(cfg.workdir, fail_w);
	if (p.set_user) {
		if (setgroups(p.user.groups.size(), p.user.groups.data()) < 0)
			child_fail(fail_w, kSetupFailed, errno, "setgroups");
		if (setgid(p.user.gid) < 0) child_fail(fail_w, kSetupFailed, errno, "setgid");
		if (setuid(p.user.uid) < 0) child_fail(fail_w, kSetupFailed, errno, "setuid");
	}
	if (chdir(cfg.workdir.c_str()) < 0) child_fail(fail_w, kSetupFailed, errno, "chdir to the working directory");
	environ = const_cast<char**>(envp);
	execvp(argv[0], argv);
	int e = errno;
	child_fail(fail_w, (e == ENOENT || e == ENOTDIR) ? kNotFound : kCannotExec, e, "exec");
}

std::string read_optional(const char* path) {
	try {
		return read_file(path, results::kMaxIdFileBytes);
	} catch (const Error& e) {
		if (errno != ENOENT) BLOG_WARN("%s", e.what());
		return {};
	}
}

bool has_var(const std::vector<std::string>& env, const char* prefix) {
	for (const auto& e : env)
		if (e.rfind(prefix, 0) == 0) return true;
	return false;
}

// Everything that may fail with a message, before the fork: such a failure
// is the run's 125.
Prepared prepare(const RunConfig& cfg, const WorkloadSettings& s) {
	Prepared p;
	p.env = cfg.env;
	if (!cfg.cgroup.empty()) p.cgroup_procs = prepare_cgroup(s.cgroup_root, cfg.cgroup, s.in_guest);
	p.create_workdir = s.in_guest;
	if (!cfg.user.empty()) {
		p.user = results::resolve_user(cfg.user, read_optional("/etc/passwd"), read_optional("/etc/group"));
		p.set_user = true;
	} else if (s.in_guest) {
		p.user = results::resolve_user("0", read_optional("/etc/passwd"), read_optional("/etc/group"));
	}
	if (!has_var(p.env, "HOME=")) p.env.push_back("HOME=" + (p.user.home.empty() ? std::string("/") : p.user.home));
	if (!has_var(p.env, "PATH=")) p.env.push_back(kDefaultPath);
	if (s.control_fd >= 0) {
		p.keep_fd = s.control_fd;
		p.env.push_back(strprintf("BENCHER_TEST_CONTROL_FD=%d", s.control_fd));
	}
	return p;
}

// Blocks the signals init handles and returns a signalfd for them: SIGCHLD
// wakes the loop, the others are forwarded to the workload.
UniqueFd block_signals() {
	sigset_t set;
	sigemptyset(&set);
	for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
	sigprocmask(SIG_BLOCK, &set, nullptr);
	UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!fd) fail_errno("signalfd");
	return fd;
}

void make_pipe(UniqueFd& r, UniqueFd& w) {
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) fail_errno("pipe");
	r.reset(p[0]);
	w.reset(p[1]);
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
	std::vector<char*> out;
	for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
	out.push_back(nullptr);
	return out;
}

class Runner {
public:
	Runner(const RunConfig& cfg, const WorkloadSettings& s, ResultSink& sink) : cfg_(cfg), s_(s), sink_(sink) {
		out_.limit = err_.limit = cfg.max_output_bytes;
	}
	ExitRecord run();

private:
	void forward(uint32_t port, OutputLimiter& lim, std::string_view data) {
		size_t take = lim.admit(data.size());
		if (take) sink_.send(port, data.substr(0, take));
	}
	void report(const std::string& error) { forward(vsock::kPortStderr, err_, "bencher-init: " + error + "\n"); }
	pid_t spawn(Prepared& p, UniqueFd& out, UniqueFd& err);
	std::optional<int> stream(pid_t child, UniqueFd& out, UniqueFd& err);
	bool pump(UniqueFd& fd, uint32_t port, OutputLimiter& lim);
	void exit_status(int st);

	const RunConfig& cfg_;
	const WorkloadSettings& s_;
	ResultSink& sink_;
	OutputLimiter out_, err_;
	ExitRecord rec_;
	UniqueFd sigfd_;
};

// Forks the workload; the pipes' read ends come back in out/err. Returns
// once the child has exec'd or failed (then rec_.error says why).
pid_t Runner::spawn(Prepared& p, UniqueFd& out, UniqueFd& err) {
	std::vector<char*> argv = c_strings(cfg_.argv), envp = c_strings(p.env);
	UniqueFd out_w, err_w, fail_r, fail_w;
	make_pipe(out, out_w);
	make_pipe(err, err_w);
	make_pipe(fail_r, fail_w);
	sigfd_ = block_signals();
	pid_t child = fork();
	if (child < 0) fail_errno("fork");
	if (child == 0) exec_workload(cfg_, p, out_w.get(), err_w.get(), fail_w.get(), argv.data(), envp.data());
	out_w.reset();
	err_w.reset();
	fail_w.reset();
	p.cgroup_procs.reset();
	ChildFailure cf{};
	if (read_full(fail_r.get(), &cf, sizeof cf, "exec status") == sizeof cf) {
		cf.what[sizeof cf.what - 1] = '\0';
		rec_.error = errno_message(std::string(cf.what) + (cf.code == kSetupFailed ? "" : " " + cfg_.argv[0]), cf.err);
		report(rec_.error);
	}
	return child;
}

// Reads once from a pipe; false (and the fd closed) at EOF.
bool Runner::pump(UniqueFd& fd, uint32_t port, OutputLimiter& lim) {
	char buf[kChunk];
	ssize_t n = read(fd.get(), buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
	if (n <= 0) {
		fd.reset();
		return false;
	}
	// Past the limit the bytes are counted and dropped here, in the guest,
	// so a flood never piles up anywhere.
	forward(port, lim, std::string_view(buf, static_cast<size_t>(n)));
	return true;
}

void reap(pid_t child, std::optional<int>& status) {
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == child) status = st;
}

// Streams stdout and stderr until the workload has exited and the pipes
// are drained (or kDrainMs after its exit); returns its wait status.
std::optional<int> Runner::stream(pid_t child, UniqueFd& out, UniqueFd& err) {
	std::optional<int> status;
	bool term_forwarded = false;
	std::optional<Clock::time_point> drain_until;
	for (;;) {
		if (status && !drain_until) {
			// The workload is gone: so is everything it left behind, and
			// the pipes then drain to EOF.
			if (getpid() == 1) kill(-1, SIGKILL);
			else kill(-child, SIGKILL);
			drain_until = Clock::now() + std::chrono::milliseconds(kDrainMs);
		}
		if (!out && !err && status) break;
		int wait_ms = -1;
		if (drain_until) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*drain_until - Clock::now()).count();
			if (left <= 0) break;
			wait_ms = static_cast<int>(left);
		}
		pollfd pf[3] = {{sigfd_.get(), POLLIN, 0}, {out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
		int r = poll(pf, 3, wait_ms);
		if (r < 0 && errno != EINTR) fail_errno("poll");
		if (r <= 0) continue;
		if (pf[0].revents & POLLIN) {
			signalfd_siginfo si;
			while (read(sigfd_.get(), &si, sizeof si) == sizeof si)
				if (si.ssi_signo != SIGCHLD && !term_forwarded && !status) {
					term_forwarded = true;
					kill(child, SIGTERM);
				}
			reap(child, status);
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) pump(out, vsock::kPortStdout, out_);
		if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) pump(err, vsock::kPortStderr, err_);
		if (!status) reap(child, status);
	}
	return status;
}

void Runner::exit_status(int st) {
	if (WIFSIGNALED(st)) {
		rec_.signal = WTERMSIG(st);
		rec_.exit_code = exit_codes::signal_code(rec_.signal);
	} else {
		rec_.exit_code = WEXITSTATUS(st);
	}
}

ExitRecord Runner::run() {
	Prepared p;
	try {
		p = prepare(cfg_, s_);
	} catch (const Error& e) {
		rec_.error = e.what();
		report(rec_.error);
		rec_.exit_code = kSetupFailed;
		rec_.stderr_bytes = err_.total;
		return rec_;
	}
	UniqueFd out, err;
	pid_t child = spawn(p, out, err);
	std::optional<int> status = stream(child, out, err);
	// Reap whatever died in the sweep.
	while (waitpid(-1, nullptr, WNOHANG) > 0) {
	}
	exit_status(status.value_or(0));
	rec_.stdout_bytes = out_.total;
	rec_.stderr_bytes = err_.total;
	rec_.stdout_truncated = out_.truncated();
	rec_.stderr_truncated = err_.truncated();
	return rec_;
}

}  // namespace

ExitRecord run_workload(const RunConfig& cfg, const WorkloadSettings& settings, ResultSink& sink) {
	return Runner(cfg, settings, sink).run();
}

}  // namespace bencher::guest
