// bencher-init: PID 1 of the guest. Gets the run config from collect-results
// over vsock (port 5004), opens the result ports, runs the workload as its
// child and streams back stdout, stderr, the exit code, files and an HMAC
// over all of it, then powers the VM off. A static binary (no NSS: users come
// from the image's /etc/passwd and /etc/group). --test-mode runs it as an
// ordinary process speaking the VMM's side of lib/vsock/control.hh.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/reboot.h>
#include <linux/vm_sockets.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "common/cli.hh"
#include "common/digest.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "common/size.hh"
#include "results/protocol.hh"
#include "results/serial.hh"
#include "results/user.hh"
#include "vsock/control.hh"

using namespace bencher;
using namespace bencher::results;
using Clock = std::chrono::steady_clock;

namespace {

// Exit codes reported for the workload when it could not be started.
constexpr int kSetupFailed = 125;   // user, workdir or cgroup could not be applied
constexpr int kCannotExec = 126;    // found but not executable
constexpr int kNotFound = 127;      // no such command

constexpr uint16_t kBootTimerPort = 0x440;
constexpr uint8_t kBootTimerValue = 0x7b;     // "init started"
constexpr uint8_t kCleanShutdownValue = 0x7c;  // "this reset is a clean power-off"
constexpr const char* kFallbackConfig = "/bencher/run.cfg";
constexpr size_t kChunk = 64 << 10;
constexpr int kAckTimeoutMs = 10000;
constexpr int kDrainMs = 2000;

const char kHelp[] =
    "Usage: bencher-init                 (as the guest's PID 1)\n"
    "       bencher-init --test-mode --control-fd N [--serial --config-file FILE]\n"
    "       bencher-init --connect PORT [--control-fd N]\n"
    "The guest end of the results channel: gets the run config over vsock,\n"
    "runs the workload and streams its results to collect-results.\n"
    "\n"
    "      --test-mode          run as an ordinary process: no mounts, no reboot;\n"
    "                           connections go over the control socket at --control-fd\n"
    "      --control-fd N       the lib/vsock control socket (test mode)\n"
    "      --serial             use the serial fallback (records on stdout)\n"
    "      --config-file FILE   run config for the serial fallback (default /bencher/run.cfg)\n"
    "      --test-corrupt PORT  test mode: flip the first byte sent on PORT after hashing it\n"
    "      --connect PORT       connect to host port PORT, copy stdin to it and exit\n"
    "                           (1 if the host refuses)\n"
    "      --log-level LEVEL    error, warn (default), info or debug\n"
    "  -h, --help               show this help\n"
    "      --version            show the version\n";

struct Options {
	bool test_mode = false;
	int control_fd = -1;
	bool serial = false;
	std::string config_file;
	uint32_t corrupt_port = 0;
	uint32_t connect_port = 0;
};

// ---- connections ---------------------------------------------------------

// Opens a connection to a host port: AF_VSOCK in the guest; in test mode a
// socketpair handed to collect-results as the VMM would (GUEST_CONNECT).
class Connector {
public:
	explicit Connector(int control_fd) : control_fd_(control_fd) {}
	UniqueFd connect(uint32_t port) {
		if (control_fd_ >= 0) return connect_control(port);
		return connect_vsock(port);
	}

private:
	UniqueFd connect_vsock(uint32_t port) {
		UniqueFd s(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
		if (!s) fail_errno("vsock socket");
		sockaddr_vm a{};
		a.svm_family = AF_VSOCK;
		a.svm_cid = vsock::kHostCid;
		a.svm_port = port;
		int r;
		do {
			r = ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
		} while (r < 0 && errno == EINTR);
		if (r < 0) fail_errno(strprintf("connect to host port %u", port));
		return s;
	}

	UniqueFd connect_control(uint32_t port) {
		UniqueFd mine, theirs;
		vsock::stream_pair(mine, theirs);
		vsock::ControlMsg m;
		m.type = static_cast<uint16_t>(vsock::MsgType::guest_connect);
		// Distinct ids per process, so a workload's own attempts never
		// collide with init's.
		m.conn_id = (static_cast<uint64_t>(getpid()) << 32) | ++next_id_;
		m.host_port = port;
		m.guest_port = 49152 + static_cast<uint32_t>(next_id_);
		vsock::send_msg(control_fd_, m, theirs.get());
		theirs.reset();
		for (;;) {
			vsock::ControlMsg reply;
			UniqueFd fd;
			if (!vsock::recv_msg(control_fd_, reply, fd)) fail(strprintf("connect to host port %u: control channel closed", port));
			if (reply.conn_id != m.conn_id) continue;
			if (reply.type == static_cast<uint16_t>(vsock::MsgType::accept)) return mine;
			fail(strprintf("connect to host port %u: refused", port));
		}
	}

	int control_fd_;
	uint64_t next_id_ = 0;
};

// ---- where results go ----------------------------------------------------

// The result ports over vsock (hashed for the HMAC), or the serial fallback's
// records on the console.
class Results {
public:
	virtual ~Results() = default;
	virtual void send(uint32_t port, std::string_view data) = 0;
	virtual void close(uint32_t port) = 0;
	// Sends the HMAC (vsock) or the end record (serial) and waits until the
	// host has everything.
	virtual void finish() = 0;
};

class VsockResults : public Results {
public:
	VsockResults(Connector& c, std::string key, std::string_view config_wire, uint32_t corrupt_port)
	    : key_(std::move(key)), corrupt_port_(corrupt_port) {
		digest_.add(vsock::kPortConfig, config_wire);
		for (uint32_t p : {vsock::kPortStdout, vsock::kPortStderr, vsock::kPortExitCode, vsock::kPortHmac, vsock::kPortFiles})
			fds_[p] = c.connect(p);
	}
	~VsockResults() override { explicit_bzero(key_.data(), key_.size()); }

	void send(uint32_t port, std::string_view data) override {
		if (data.empty()) return;
		digest_.add(port, data);
		if (port == corrupt_port_) {
			corrupt_port_ = 0;
			std::string bad(data);
			bad[0] = static_cast<char>(bad[0] ^ 0x01);
			write_all(fds_[port].get(), bad, port_name(port));
			return;
		}
		write_all(fds_[port].get(), data, port_name(port));
	}
	void close(uint32_t port) override { shutdown(fds_[port].get(), SHUT_WR); }
	void finish() override {
		std::string line = digest_.hmac_hex(key_) + "\n";
		explicit_bzero(key_.data(), key_.size());
		int fd = fds_[vsock::kPortHmac].get();
		write_all(fd, line, "hmac");
		shutdown(fd, SHUT_WR);
		// Wait for the host's "ok" (or its close): only then is nothing of
		// ours still in flight, and powering off loses nothing.
		pollfd p{fd, POLLIN, 0};
		int r;
		do {
			r = poll(&p, 1, kAckTimeoutMs);
		} while (r < 0 && errno == EINTR);
		if (r == 0) BLOG_WARN("no acknowledgement from the host after %d s", kAckTimeoutMs / 1000);
		fds_.clear();
	}

private:
	static std::string port_name(uint32_t port) { return strprintf("host port %u", port); }
	ResultDigest digest_;
	std::string key_;
	uint32_t corrupt_port_;
	std::map<uint32_t, UniqueFd> fds_;
};

class SerialResults : public Results {
public:
	explicit SerialResults(int fd)
	    : fd_(fd), w_([this](std::string_view rec) { write_all(fd_, rec, "console"); }) {
		w_.record('B', "v1");
	}
	void send(uint32_t port, std::string_view data) override {
		if (data.empty()) return;
		char t = port == vsock::kPortStdout ? 'O' : port == vsock::kPortStderr ? 'E' : port == vsock::kPortExitCode ? 'X' : 'F';
		w_.record(t, data);
	}
	void close(uint32_t) override {}
	void finish() override { w_.record('Z', ""); }

private:
	int fd_;
	SerialWriter w_;
};

// ---- guest setup -----------------------------------------------------------

// Writes one byte to bencher-vmm's boot-timer port; harmless if the port is
// not ours to use (another VMM, or test mode without the privilege).
void boot_timer_mark(uint8_t value) {
	if (ioperm(kBootTimerPort, 1, 1) == 0) {
		outb(value, kBootTimerPort);
		ioperm(kBootTimerPort, 1, 0);
	}
}

// Tells the VMM "init started": its boot-to-init figure.
void boot_timer() { boot_timer_mark(kBootTimerValue); }

void mount_one(const char* src, const char* dir, const char* type, unsigned long flags, const char* data) {
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, data) < 0 && errno != EBUSY)
		BLOG_WARN("%s", errno_message(strprintf("mount %s on %s", type, dir), errno).c_str());
}

void guest_mounts() {
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	// Without /dev/console in the image the kernel gave us no fds 0-2.
	if (fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (fd >= 0) {
			for (int i = 0; i < 3; i++)
				if (fcntl(i, F_GETFD) < 0) dup2(fd, i);
			if (fd > 2) ::close(fd);
		}
	}
}

// Creates the workload's cgroup (cgroup2 mounted at /sys/fs/cgroup in the
// guest) and returns its cgroup.procs, open for the child to join before exec.
UniqueFd prepare_cgroup(const std::string& rel, bool guest) {
	std::string root = "/sys/fs/cgroup";
	if (guest) {
		struct stat st;
		if (stat((root + "/cgroup.procs").c_str(), &st) < 0)
			mount_one("cgroup2", root.c_str(), "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
	}
	std::string path = root;
	size_t start = 0;
	while (start <= rel.size()) {
		size_t slash = rel.find('/', start);
		if (slash == std::string::npos) slash = rel.size();
		// Hand the common controllers down, one at a time (each may be absent).
		for (const char* c : {"+cpu", "+memory", "+pids", "+io", "+cpuset"}) {
			int fd = open((path + "/cgroup.subtree_control").c_str(), O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				(void)!write(fd, c, strlen(c));
				::close(fd);
			}
		}
		path += "/" + rel.substr(start, slash - start);
		if (mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("cgroup " + path);
		start = slash + 1;
	}
	return open_file(path + "/cgroup.procs", O_WRONLY);
}

std::string read_optional(const char* path) {
	try {
		return read_file(path, kMaxIdFileBytes);
	} catch (const Error& e) {
		if (errno != ENOENT) BLOG_WARN("%s", e.what());
		return {};
	}
}

// ---- the workload ------------------------------------------------------------

struct Prepared {
	std::vector<std::string> env;
	ResolvedUser user;
	bool set_user = false;
	UniqueFd cgroup_procs;
	int keep_fd = -1;  // test mode: the control fd the workload may try to use
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
	if (p.keep_fd >= 0) {
		int fl = fcntl(p.keep_fd, F_GETFD);
		fcntl(p.keep_fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
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
	// As Docker does, a working directory the image lacks is created (by
	// root, 0755) rather than failing the run; not in test mode, where this
	// is the host's file system.
	if (p.create_workdir && access(cfg.workdir.c_str(), F_OK) < 0 && errno == ENOENT) {
		std::string dir;
		for (size_t i = 1; i <= cfg.workdir.size(); i++) {
			if (i == cfg.workdir.size() || cfg.workdir[i] == '/') {
				dir = cfg.workdir.substr(0, i);
				if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
					child_fail(fail_w, kSetupFailed, errno, "create the working directory");
			}
		}
	}
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

class Runner {
public:
	Runner(const Options& o, const RunConfig& cfg, Results& res) : o_(o), cfg_(cfg), res_(res) {
		out_.limit = err_.limit = cfg.max_output_bytes;
	}
	ExitRecord run();

private:
	void forward(uint32_t port, OutputLimiter& lim, std::string_view data) {
		size_t take = lim.admit(data.size());
		if (take) res_.send(port, data.substr(0, take));
	}
	bool pump(int& fd, uint32_t port, OutputLimiter& lim);
	void reap(pid_t child, std::optional<int>& status);

	const Options& o_;
	const RunConfig& cfg_;
	Results& res_;
	OutputLimiter out_, err_;
};

// Reads once from a pipe; false (and fd = -1) at EOF.
bool Runner::pump(int& fd, uint32_t port, OutputLimiter& lim) {
	char buf[kChunk];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
	if (n <= 0) {
		::close(fd);
		fd = -1;
		return false;
	}
	// Past the limit the bytes are counted and dropped here, in the guest,
	// so a flood never piles up anywhere.
	forward(port, lim, std::string_view(buf, static_cast<size_t>(n)));
	return true;
}

void Runner::reap(pid_t child, std::optional<int>& status) {
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == child) status = st;
}

ExitRecord Runner::run() {
	ExitRecord rec;
	Prepared p;
	std::string setup_error;
	try {
		p.env = cfg_.env;
		if (!cfg_.cgroup.empty()) p.cgroup_procs = prepare_cgroup(cfg_.cgroup, !o_.test_mode);
		p.create_workdir = !o_.test_mode;
		if (!cfg_.user.empty()) {
			p.user = resolve_user(cfg_.user, read_optional("/etc/passwd"), read_optional("/etc/group"));
			p.set_user = true;
		} else if (!o_.test_mode) {
			p.user = resolve_user("0", read_optional("/etc/passwd"), read_optional("/etc/group"));
		}
		bool has_home = false, has_path = false;
		for (const auto& e : p.env) {
			has_home |= e.rfind("HOME=", 0) == 0;
			has_path |= e.rfind("PATH=", 0) == 0;
		}
		if (!has_home) p.env.push_back("HOME=" + (p.user.home.empty() ? std::string("/") : p.user.home));
		if (!has_path) p.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		if (o_.test_mode && o_.control_fd >= 0) {
			p.keep_fd = o_.control_fd;
			p.env.push_back(strprintf("BENCHER_TEST_CONTROL_FD=%d", o_.control_fd));
		}
	} catch (const Error& e) {
		setup_error = e.what();
	}
	if (!setup_error.empty()) {
		std::string msg = "bencher-init: " + setup_error + "\n";
		forward(vsock::kPortStderr, err_, msg);
		rec.exit_code = kSetupFailed;
		rec.error = setup_error;
		rec.stderr_bytes = err_.total;
		return rec;
	}

	std::vector<char*> argv, envp;
	for (const auto& a : cfg_.argv) argv.push_back(const_cast<char*>(a.c_str()));
	argv.push_back(nullptr);
	for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
	envp.push_back(nullptr);

	int op[2], ep[2], fp[2];
	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 || pipe2(fp, O_CLOEXEC) < 0) fail_errno("pipe");
	sigset_t set;
	sigemptyset(&set);
	for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
	sigprocmask(SIG_BLOCK, &set, nullptr);
	UniqueFd sigfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!sigfd) fail_errno("signalfd");

	pid_t child = fork();
	if (child < 0) fail_errno("fork");
	if (child == 0) exec_workload(cfg_, p, op[1], ep[1], fp[1], argv.data(), envp.data());
	::close(op[1]);
	::close(ep[1]);
	::close(fp[1]);
	p.cgroup_procs.reset();
	ChildFailure cf{};
	size_t got = read_full(fp[0], &cf, sizeof cf, "exec status");
	::close(fp[0]);
	if (got == sizeof cf) {
		cf.what[sizeof cf.what - 1] = '\0';
		rec.error = errno_message(std::string(cf.what) + (cf.code == kSetupFailed ? "" : " " + cfg_.argv[0]), cf.err);
		std::string msg = "bencher-init: " + rec.error + "\n";
		forward(vsock::kPortStderr, err_, msg);
	}

	int fds[2] = {op[0], ep[0]};
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
		if (fds[0] < 0 && fds[1] < 0 && status) break;
		int wait_ms = -1;
		if (drain_until) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*drain_until - Clock::now()).count();
			if (left <= 0) break;
			wait_ms = static_cast<int>(left);
		}
		pollfd pf[3] = {{sigfd.get(), POLLIN, 0}, {fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
		int r = poll(pf, 3, wait_ms);
		if (r < 0 && errno != EINTR) fail_errno("poll");
		if (r <= 0) continue;
		if (pf[0].revents & POLLIN) {
			signalfd_siginfo si;
			while (read(sigfd.get(), &si, sizeof si) == sizeof si) {
				if (si.ssi_signo == SIGCHLD) continue;
				if (!term_forwarded && !status) {
					term_forwarded = true;
					kill(child, SIGTERM);
				}
			}
			reap(child, status);
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) pump(fds[0], vsock::kPortStdout, out_);
		if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) pump(fds[1], vsock::kPortStderr, err_);
		if (!status) reap(child, status);
	}
	for (int fd : fds)
		if (fd >= 0) ::close(fd);
	// Reap whatever died in the sweep.
	while (waitpid(-1, nullptr, WNOHANG) > 0) {
	}

	int st = status.value_or(0);
	if (WIFSIGNALED(st)) {
		rec.signal = WTERMSIG(st);
		rec.exit_code = 128 + rec.signal;
	} else {
		rec.exit_code = WEXITSTATUS(st);
	}
	rec.stdout_bytes = out_.total;
	rec.stderr_bytes = err_.total;
	rec.stdout_truncated = out_.truncated();
	rec.stderr_truncated = err_.truncated();
	return rec;
}

// Sends the requested files in the config's order: each read whole (bounded)
// before its header, so the size announced is the size sent.
void send_files(const RunConfig& cfg, Results& res) {
	res.send(vsock::kPortFiles, encode_files_begin());
	uint64_t total = 0;
	for (const auto& path : cfg.files) {
		FileStatus st = FileStatus::ok;
		std::string data;
		uint64_t size = 0;
		int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		struct stat sb;
		if (fd < 0) {
			st = (errno == ENOENT || errno == ENOTDIR) ? FileStatus::missing : FileStatus::error;
		} else if (fstat(fd, &sb) < 0) {
			st = FileStatus::error;
		} else if (!S_ISREG(sb.st_mode)) {
			st = FileStatus::not_regular;
		} else if (static_cast<uint64_t>(sb.st_size) > cfg.max_file_bytes ||
		           static_cast<uint64_t>(sb.st_size) > cfg.max_files_total_bytes - total) {
			st = FileStatus::too_large;
			size = static_cast<uint64_t>(sb.st_size);
		} else {
			try {
				uint64_t room = std::min(cfg.max_file_bytes, cfg.max_files_total_bytes - total);
				data = read_all(fd, static_cast<size_t>(room), path);
				size = data.size();
				total += size;
			} catch (const Error&) {
				st = FileStatus::too_large;  // it grew past the limit while read
				size = static_cast<uint64_t>(sb.st_size);
			}
		}
		if (fd >= 0) ::close(fd);
		res.send(vsock::kPortFiles, encode_file_header(path, st, st == FileStatus::ok || st == FileStatus::too_large ? size : 0));
		if (st == FileStatus::ok) res.send(vsock::kPortFiles, data);
	}
	res.send(vsock::kPortFiles, encode_files_end());
	res.close(vsock::kPortFiles);
}

[[noreturn]] void power_off() {
	sync();
	// With the VMM, a reboot (i8042 reset, reboot=k) is the clean exit; the
	// mark first tells it this reset is a power-off, not a crash.
	boot_timer_mark(kCleanShutdownValue);
	reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	for (;;) pause();
}

// Reads the run config: over vsock (or the test control socket), or from a
// file for the serial fallback. Returns the wire bytes too (for the HMAC).
std::optional<std::pair<RunConfig, std::string>> config_from(Connector& c) {
	UniqueFd fd;
	try {
		fd = c.connect(vsock::kPortConfig);
	} catch (const Error& e) {
		BLOG_WARN("%s: falling back to the serial console", e.what());
		return std::nullopt;
	}
	std::string wire = read_all(fd.get(), kMaxConfigBytes, "run config");
	RunConfig cfg = decode_config(wire);
	if (cfg.hmac_key.empty()) fail("run config: no HMAC key");
	return std::make_pair(std::move(cfg), std::move(wire));
}

int connect_mode(const Options& o) {
	int cfd = o.control_fd;
	if (cfd < 0) {
		if (const char* e = getenv("BENCHER_TEST_CONTROL_FD")) cfd = static_cast<int>(parse_uint(e, "BENCHER_TEST_CONTROL_FD", 0, 1 << 20));
	}
	Connector c(cfd);
	UniqueFd fd;
	try {
		fd = c.connect(o.connect_port);
	} catch (const Error& e) {
		std::fprintf(stderr, "bencher-init: %s\n", e.what());
		return 1;
	}
	std::string data = read_all(0, 1 << 20, "stdin");
	write_all(fd.get(), data, "connection");
	return 0;
}

int init_main(const Options& o) {
	bool guest = !o.test_mode;
	if (guest) boot_timer();
	// Nobody, root included, gets at init's memory (the HMAC key) through
	// ptrace, /proc/1/mem or /proc/1/environ without CAP_SYS_PTRACE.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
	if (guest) guest_mounts();

	Connector conn(o.test_mode ? o.control_fd : -1);
	std::optional<std::pair<RunConfig, std::string>> got;
	if (!o.serial) got = config_from(conn);
	std::unique_ptr<Results> res;
	RunConfig cfg;
	if (got) {
		cfg = std::move(got->first);
		res = std::make_unique<VsockResults>(conn, cfg.hmac_key, got->second, o.test_mode ? o.corrupt_port : 0);
		explicit_bzero(got->first.hmac_key.data(), got->first.hmac_key.size());
		explicit_bzero(cfg.hmac_key.data(), cfg.hmac_key.size());
		cfg.hmac_key.clear();
	} else {
		std::string path = o.config_file.empty() ? kFallbackConfig : o.config_file;
		cfg = decode_config(read_file(path, kMaxConfigBytes));
		if (guest) unlink(path.c_str());  // the workload has no use for it
		cfg.hmac_key.clear();
		res = std::make_unique<SerialResults>(1);
	}

	Runner runner(o, cfg, *res);
	ExitRecord rec = runner.run();
	res->close(vsock::kPortStdout);
	res->close(vsock::kPortStderr);
	send_files(cfg, *res);
	res->send(vsock::kPortExitCode, format_exit(rec));
	res->close(vsock::kPortExitCode);
	res->finish();
	return 0;
}

}  // namespace

int main(int argc, char** argv) {
	Options o;
	int rc = run_main("bencher-init", [&] {
		log::init_from_env();
		cli::Parser p({"bencher-init", kHelp});
		p.flag("test-mode", 0, [&] { o.test_mode = true; });
		p.value("control-fd", 0, [&](const std::string& v) { o.control_fd = static_cast<int>(parse_uint(v, "--control-fd", 0, 1 << 20)); });
		p.flag("serial", 0, [&] { o.serial = true; });
		p.value("config-file", 0, [&](const std::string& v) { o.config_file = v; });
		p.value("test-corrupt", 0, [&](const std::string& v) { o.corrupt_port = static_cast<uint32_t>(parse_uint(v, "--test-corrupt", 1, 65535)); });
		p.value("connect", 0, [&](const std::string& v) { o.connect_port = static_cast<uint32_t>(parse_uint(v, "--connect", 1, UINT32_MAX)); });
		// The kernel passes unknown command-line words to init as arguments;
		// as PID 1 they are ignored rather than fatal.
		std::vector<std::string> rest = getpid() == 1 ? std::vector<std::string>() : p.parse(argc, argv);
		if (!rest.empty()) fail_usage("unexpected argument \"" + rest[0] + "\"");
		if (o.connect_port) return connect_mode(o);
		if (o.test_mode && o.control_fd < 0 && !o.serial) fail_usage("--test-mode needs --control-fd N (or --serial)");
		if (!o.test_mode && getpid() != 1) fail_usage("not PID 1: use --test-mode outside a guest");
		if (!o.test_mode && o.corrupt_port) fail_usage("--test-corrupt needs --test-mode");
		return init_main(o);
	});
	if (getpid() == 1) power_off();
	return rc;
}
