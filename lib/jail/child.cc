// child.cc: the jail's PID 1 and the program's last steps before exec (see
// child.hh). Everything here runs in the new namespaces; nothing returns to
// the jailer's code except through the error pipe.
#include "jail/child.hh"

#include <dirent.h>
#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/error.hh"
#include "common/exit_codes.hh"
#include "common/fd.hh"

namespace bencher::jail {

namespace {

void no_op_handler(int) {}

void bring_up_lo() {
	UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!s) fail_errno("network: socket");
	struct ifreq ifr {};
	std::strcpy(ifr.ifr_name, "lo");
	if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) fail_errno("network: lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) fail_errno("network: bring up lo");
}

// Mount namespace: the jail root becomes /, with what the setup ops mount;
// the host's root is detached and the new one made read-only.
void build_root(const Child& c) {
	const Plan& p = *c.plan;
	if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
		fail(errno_message("make / private", errno) + mount_hint(errno, c.userns));
	if (mount(c.root.c_str(), c.root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
		fail(errno_message("bind jail root " + c.root, errno) + mount_hint(errno, c.userns));
	UniqueFd rootfd(open(c.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!rootfd) fail_errno("jail root " + c.root);
	apply_ops(c.ops, rootfd.get(), c.root, c.userns);

	if (p.namespaces.uts && sethostname(p.hostname.data(), p.hostname.size()) != 0) fail_errno("sethostname");
	if (p.namespaces.network) bring_up_lo();

	if (fchdir(rootfd.get()) != 0) fail_errno("chdir " + c.root);
	if (syscall(SYS_pivot_root, ".", ".") != 0) fail_errno("pivot_root " + c.root);
	if (umount2(".", MNT_DETACH) != 0) fail_errno("detach the old root");
	if (chdir("/") != 0) fail_errno("chdir /");
	rootfd.reset();
	struct statvfs sv;
	if (statvfs("/", &sv) != 0) fail_errno("statvfs /");
	if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | statvfs_to_ms(sv.f_flag), nullptr) != 0)
		fail_errno("remount / read-only");
}

void set_rlimit(int resource, const char* name, rlim_t value) {
	struct rlimit rl = {value, value};
	if (setrlimit(resource, &rl) != 0) {
		int err = errno;
		struct rlimit cur;
		getrlimit(resource, &cur);
		fail(strprintf("setrlimit %s %llu: %s (the hard limit is %llu)", name, (unsigned long long)value,
			       strerror(err), (unsigned long long)cur.rlim_max));
	}
}

// Capabilities, uid/gid, no_new_privs: after this nothing can be regained.
void drop_privileges(const Child& c) {
	const Plan& p = *c.plan;
	const Limits& l = p.limits;
	set_rlimit(RLIMIT_NOFILE, "NOFILE", l.max_fds);
	set_rlimit(RLIMIT_NPROC, "NPROC", l.max_procs);
	set_rlimit(RLIMIT_CORE, "CORE", 0);
	if (l.max_file_bytes) set_rlimit(RLIMIT_FSIZE, "FSIZE", *l.max_file_bytes);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("PR_SET_NO_NEW_PRIVS");
	for (cap_value_t cap = 0; CAP_IS_SUPPORTED(cap); cap++) {
		if (cap_drop_bound(cap) != 0) fail_errno(strprintf("drop capability %d from the bounding set", cap));
	}
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0) fail_errno("clear ambient capabilities");
	// Without CAP_SETGID in the owning namespace (unprivileged user
	// namespaces deny setgroups) the supplementary groups stay: they are
	// the caller's own.
	if (setgroups(0, nullptr) != 0 && !(c.userns && !c.root_user && errno == EPERM))
		fail_errno("setgroups");
	if (setresgid(p.gid, p.gid, p.gid) != 0) fail_errno(strprintf("setresgid %u", p.gid));
	if (setresuid(p.uid, p.uid, p.uid) != 0) fail_errno(strprintf("setresuid %u", p.uid));
	cap_t none = cap_init();
	if (none == nullptr) fail_errno("cap_init");
	int rc = cap_set_proc(none);
	int err = errno;
	cap_free(none);
	if (rc != 0) fail_errno("drop capabilities", err);
}

// Marks fds lo..hi close-on-exec.
void cloexec_range(unsigned lo, unsigned hi) {
	if (syscall(SYS_close_range, lo, hi, CLOSE_RANGE_CLOEXEC) == 0) return;
	// Before Linux 5.11: one by one, as the jail's /proc lists them (fds
	// inherited above the new RLIMIT_NOFILE included).
	DIR* d = opendir("/proc/self/fd");
	if (d == nullptr) fail_errno("list /proc/self/fd");
	int self = dirfd(d);
	while (struct dirent* e = readdir(d)) {
		if (e->d_name[0] == '.') continue;
		unsigned long fd = std::strtoul(e->d_name, nullptr, 10);
		if (fd < lo || fd > hi || static_cast<int>(fd) == self) continue;
		int fl = fcntl(static_cast<int>(fd), F_GETFD);
		if (fl >= 0) fcntl(static_cast<int>(fd), F_SETFD, fl | FD_CLOEXEC);
	}
	closedir(d);
}

// Puts the --fd files on their numbers and marks every fd the program is
// not to get close-on-exec; returns the error pipe and the program's fd,
// lifted above the targets so placing one cannot close another.
std::pair<int, int> place_fds(const Child& c) {
	const Plan& p = *c.plan;
	int high = 3;
	for (auto& [src, target] : c.fds) high = std::max(high, target + 1);
	auto lift = [&](int fd) {
		int n = fcntl(fd, F_DUPFD_CLOEXEC, high);
		if (n < 0) fail_errno("fcntl F_DUPFD");
		return n;
	};
	int err_fd = lift(c.err_fd);
	int exec_fd = lift(c.exec_fd);
	std::vector<std::pair<int, int>> moved;
	for (auto& [src, target] : c.fds) moved.emplace_back(lift(src), target);
	std::set<int> keep(p.keep_fds.begin(), p.keep_fds.end());
	keep.insert({0, 1, 2});
	for (auto& [src, target] : moved) {
		if (dup2(src, target) < 0) fail_errno(strprintf("dup2 to fd %d", target));
		keep.insert(target);
	}
	for (int fd : p.keep_fds) {
		int fl = fcntl(fd, F_GETFD);
		if (fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0) fail_errno(strprintf("keep fd %d", fd));
	}
	// Every other fd closes at exec; the ones above stay until then.
	unsigned int from = 0;
	for (int k : keep) {
		if (static_cast<unsigned>(k) > from) cloexec_range(from, static_cast<unsigned>(k) - 1);
		from = static_cast<unsigned>(k) + 1;
	}
	cloexec_range(from, ~0U);
	return {err_fd, exec_fd};
}

// The program's process: its fds in place, everything else closed at exec.
[[noreturn]] void exec_program(const Child& c) {
	const Plan& p = *c.plan;
	auto [err_fd, exec_fd] = place_fds(c);
	if (chdir(p.workdir.c_str()) != 0) fail_errno("chdir " + p.workdir);
	std::vector<std::string> envs;
	for (auto& [k, v] : p.env) envs.push_back(k + "=" + v);
	std::vector<char*> argv, envp;
	argv.push_back(const_cast<char*>(p.exec_path.c_str()));
	for (auto& a : p.exec_args) argv.push_back(const_cast<char*>(a.c_str()));
	argv.push_back(nullptr);
	for (auto& e : envs) envp.push_back(e.data());
	envp.push_back(nullptr);
	for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &c.old_mask, nullptr);
	syscall(SYS_execveat, exec_fd, "", argv.data(), envp.data(), AT_EMPTY_PATH);
	int e = errno;
	std::string msg = errno_message("exec " + p.exec_path, e);
	if (e == EACCES) msg += strprintf(" (uid %u needs execute permission on it)", p.uid);
	(void)!write(err_fd, msg.data(), msg.size());
	_exit(kSetupFailed);
}

}  // namespace

// PID 1 of the jail: build the root, drop privileges, start the program,
// forward signals to it and reap whatever gets reparented here.
void stub_main(Child& c) {
	int err_fd = c.err_fd;
	try {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char go;
		ssize_t n;
		do n = read(c.go_fd, &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1) _exit(kSetupFailed);  // the parent gave up and says why
		close(c.go_fd);
		for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) signal(sig, no_op_handler);
		if (c.plan->namespaces.cgroup && unshare(CLONE_NEWCGROUP) != 0) fail_errno("unshare cgroup namespace");
		if (setsid() < 0) fail_errno("setsid");
		build_root(c);
		drop_privileges(c);
		prctl(PR_SET_DUMPABLE, 0);
		pid_t pid = fork();
		if (pid < 0) fail_errno("fork the program");
		if (pid == 0) {
			try {
				exec_program(c);
			} catch (const Error& e) {
				(void)!write(err_fd, e.what(), std::strlen(e.what()));
				_exit(kSetupFailed);
			}
		}
		syscall(SYS_close_range, 0U, ~0U, 0);
		sigset_t set;
		sigemptyset(&set);
		for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, sig);
		for (;;) {
			int st;
			pid_t r;
			while ((r = waitpid(-1, &st, WNOHANG)) > 0)
				if (r == pid) _exit(status_code(st));
			int sig = sigwaitinfo(&set, nullptr);
			if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) kill(pid, sig);
		}
	} catch (const std::exception& e) {
		(void)!write(err_fd, e.what(), std::strlen(e.what()));
	}
	_exit(kSetupFailed);
}

int status_code(int st) {
	if (WIFEXITED(st)) return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) return exit_codes::signal_code(WTERMSIG(st));
	return kExitFailure;
}

}  // namespace bencher::jail
