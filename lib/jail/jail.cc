// jail.cc: the setup steps, in the order bencher-jailer(1) documents. The
// parent does what needs the host (cgroup, mount points in the jail root,
// opening --exec and --fd files, uid/gid maps); the cloned child, PID 1 of
// the new PID namespace, builds the root and drops privileges, then forks
// the program and stays as its reaper, so signals reach the program with
// their ordinary meaning and a killed program's signal is reported as 128+N.
#include "jail/jail.hh"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/json.hh"
#include "common/log.hh"
#include "jail/cgroup.hh"
#include "jail/elf.hh"
#include "jail/explain.hh"

namespace bencher::jail {

namespace {

// ---- paths beneath the jail root, never following a symlink out of it ----

UniqueFd open_beneath(int rootfd, const std::string& abs, uint64_t flags) {
	std::string rel = abs.size() > 1 ? abs.substr(1) : ".";
	struct open_how how {};
	how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	long fd = syscall(SYS_openat2, rootfd, rel.c_str(), &how, sizeof how);
	return UniqueFd(static_cast<int>(fd));
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string parent_of(const std::string& abs) {
	size_t slash = abs.rfind('/');
	return slash == 0 ? "/" : abs.substr(0, slash);
}

// The jail root on the host: made if missing, and everything the jailer made
// in it (mount points) removed again at the end.
class JailRoot {
public:
	explicit JailRoot(const std::string& path) {
		if (path.empty()) {
			const char* tmp = getenv("TMPDIR");
			std::string templ = std::string(tmp && *tmp == '/' ? tmp : "/tmp") + "/bencher-jail.XXXXXX";
			if (mkdtemp(templ.data()) == nullptr) fail_errno("jail root: create " + templ);
			path_ = templ;
			created_ = true;
		} else {
			path_ = path;
			if (mkdir(path_.c_str(), 0755) == 0)
				created_ = true;
			else if (errno != EEXIST)
				fail_errno("jail root: create " + path_);
		}
		if (created_ && chmod(path_.c_str(), 0755) != 0) fail_errno("jail root: chmod " + path_);
		fd_.reset(open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
		if (!fd_) fail_errno("jail root " + path_);
	}
	JailRoot(const JailRoot&) = delete;
	JailRoot& operator=(const JailRoot&) = delete;
	~JailRoot() {
		fd_.reset();
		if (created_) {
			try {
				remove_tree(path_);
			} catch (const std::exception& e) {
				BLOG_WARN("jail root: %s", e.what());
			}
			return;
		}
		for (auto it = made_.rbegin(); it != made_.rend(); ++it)
			if ((it->second ? rmdir(it->first.c_str()) : unlink(it->first.c_str())) != 0)
				BLOG_WARN("jail root: remove %s: %s", it->first.c_str(), strerror(errno));
	}
	const std::string& path() const { return path_; }
	int fd() const { return fd_.get(); }

	// Makes sure `abs` (a path inside the jail) exists as a directory or a
	// file to mount on, creating what is missing.
	void ensure(const std::string& abs, bool dir) {
		std::string prefix;
		size_t i = 1;
		while (i <= abs.size()) {
			size_t j = abs.find('/', i);
			if (j == std::string::npos) j = abs.size();
			prefix = abs.substr(0, j);
			bool last = j == abs.size();
			bool want_dir = !last || dir;
			UniqueFd f = open_beneath(fd(), prefix, O_PATH);
			if (f) {
				struct stat st;
				if (fstat(f.get(), &st) != 0) fail_errno("jail root: " + path_ + prefix);
				if (S_ISLNK(st.st_mode))
					fail(strprintf("jail root: %s%s: a symbolic link (not followed in a jail root)",
						       path_.c_str(), prefix.c_str()));
				if (want_dir && !S_ISDIR(st.st_mode))
					fail(strprintf("jail root: %s%s: not a directory", path_.c_str(), prefix.c_str()));
				if (!want_dir && S_ISDIR(st.st_mode))
					fail(strprintf("jail root: %s%s: is a directory, but a file is mounted there",
						       path_.c_str(), prefix.c_str()));
			} else if (errno == ENOENT) {
				UniqueFd parent = open_beneath(fd(), parent_of(prefix), O_PATH | O_DIRECTORY);
				if (!parent) fail_errno("jail root: " + path_ + parent_of(prefix));
				std::string name = prefix.substr(prefix.rfind('/') + 1);
				if (want_dir) {
					if (mkdirat(parent.get(), name.c_str(), 0755) != 0 ||
					    fchmodat(parent.get(), name.c_str(), 0755, 0) != 0)
						fail_errno("jail root: mkdir " + path_ + prefix);
				} else {
					UniqueFd nf(openat(parent.get(), name.c_str(),
							   O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
					if (!nf) fail_errno("jail root: create " + path_ + prefix);
				}
				made_.emplace_back(path_ + prefix, want_dir);
			} else if (errno == ELOOP || errno == EXDEV) {
				fail(strprintf("jail root: %s%s: a symbolic link (not followed in a jail root)", path_.c_str(),
					       prefix.c_str()));
			} else {
				fail_errno("jail root: " + path_ + prefix);
			}
			i = j + 1;
		}
	}

private:
	std::string path_;
	bool created_ = false;
	UniqueFd fd_;
	std::vector<std::pair<std::string, bool>> made_;  // host path, is a directory
};

// ---- what the child needs, prepared by the parent ----

struct Child {
	const Plan* plan = nullptr;
	std::vector<JailFile> libs;
	std::vector<BindMount> binds;  // sorted so outer destinations come first
	std::string root;
	int exec_fd = -1;
	std::vector<std::pair<int, int>> fds;  // (open fd, target number)
	int go_fd = -1;                        // read end: the parent's go-ahead
	int err_fd = -1;                       // write end: a setup error, or EOF at exec
	sigset_t old_mask;
	bool userns = false;
	bool root_user = false;
};

constexpr int kSetupFailed = 125;  // the stub's status after reporting an error

void no_op_handler(int) {}

unsigned long statvfs_to_ms(unsigned long f) {
	unsigned long ms = 0;
	if (f & ST_RDONLY) ms |= MS_RDONLY;
	if (f & ST_NOSUID) ms |= MS_NOSUID;
	if (f & ST_NODEV) ms |= MS_NODEV;
	if (f & ST_NOEXEC) ms |= MS_NOEXEC;
	if (f & ST_NOATIME) ms |= MS_NOATIME;
	if (f & ST_NODIRATIME) ms |= MS_NODIRATIME;
	if (f & ST_RELATIME) ms |= MS_RELATIME;
	return ms;
}

std::string mount_hint(int err, const Child& c) {
	if ((err == EPERM || err == EACCES) && c.userns) return userns_hint();
	return "";
}

// Adds flags to the mount now at `abs`, keeping the ones the kernel locked.
void remount(const Child& c, int rootfd, const std::string& abs, unsigned long flags) {
	UniqueFd t = open_beneath(rootfd, abs, O_PATH);
	if (!t) fail_errno("remount " + c.root + abs);
	struct statvfs sv;
	if (fstatvfs(t.get(), &sv) != 0) fail_errno("remount " + c.root + abs);
	if (mount(nullptr, fd_path(t.get()).c_str(), nullptr, MS_REMOUNT | MS_BIND | statvfs_to_ms(sv.f_flag) | flags,
		  nullptr) != 0)
		fail(errno_message("remount " + c.root + abs, errno) + mount_hint(errno, c));
}

void bind_into(const Child& c, int rootfd, const std::string& source, const std::string& dest, unsigned long flags) {
	UniqueFd t = open_beneath(rootfd, dest, O_PATH);
	if (!t) fail(strprintf("bind %s to %s%s: %s", source.c_str(), c.root.c_str(), dest.c_str(), strerror(errno)));
	if (mount(source.c_str(), fd_path(t.get()).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
		int err = errno;
		fail(strprintf("bind %s to %s%s: %s%s", source.c_str(), c.root.c_str(), dest.c_str(), strerror(err),
			       mount_hint(err, c).c_str()));
	}
	if (flags) remount(c, rootfd, dest, flags);
}

void mount_at(const Child& c, int rootfd, const std::string& dest, const char* fstype, unsigned long flags,
	      const char* data) {
	UniqueFd t = open_beneath(rootfd, dest, O_PATH | O_DIRECTORY);
	if (!t) fail_errno(strprintf("mount %s on %s%s", fstype, c.root.c_str(), dest.c_str()));
	if (mount(fstype, fd_path(t.get()).c_str(), fstype, flags, data) != 0) {
		int err = errno;
		fail(strprintf("mount %s on %s%s: %s%s", fstype, c.root.c_str(), dest.c_str(), strerror(err),
			       mount_hint(err, c).c_str()));
	}
}

void bring_up_lo() {
	UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!s) fail_errno("network: socket");
	struct ifreq ifr {};
	std::strcpy(ifr.ifr_name, "lo");
	if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) fail_errno("network: lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) fail_errno("network: bring up lo");
}

// Mount namespace: the jail root becomes /, with /proc, a minimal /dev, the
// program's libraries and the bind mounts; the host's root is detached.
void build_root(const Child& c) {
	const Plan& p = *c.plan;
	if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
		fail(errno_message("make / private", errno) + mount_hint(errno, c));
	if (mount(c.root.c_str(), c.root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
		fail(errno_message("bind jail root " + c.root, errno) + mount_hint(errno, c));
	UniqueFd rootfd(open(c.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!rootfd) fail_errno("jail root " + c.root);
	int r = rootfd.get();

	mount_at(c, r, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
	mount_at(c, r, "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64");
	{
		UniqueFd dev = open_beneath(r, "/dev", O_PATH | O_DIRECTORY);
		if (!dev) fail_errno("jail /dev");
		for (const char* node : {"null", "zero", "urandom", "kvm"}) {
			std::string host = std::string("/dev/") + node;
			struct stat st;
			if (stat(host.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) continue;
			UniqueFd f(openat(dev.get(), node, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666));
			if (!f) fail_errno("create " + c.root + "/dev/" + node);
			bind_into(c, r, host, std::string("/dev/") + node, MS_NOSUID | MS_NOEXEC);
		}
		remount(c, r, "/dev", MS_RDONLY | MS_NOSUID | MS_NOEXEC);
	}
	for (const JailFile& lib : c.libs) bind_into(c, r, lib.host_path, lib.jail_path, MS_RDONLY | MS_NOSUID | MS_NODEV);
	for (const BindMount& b : c.binds)
		bind_into(c, r, b.source, b.dest, MS_NOSUID | MS_NODEV | (b.read_only ? MS_RDONLY : 0));

	if (p.namespaces.uts && sethostname(p.hostname.data(), p.hostname.size()) != 0) fail_errno("sethostname");
	if (p.namespaces.network) bring_up_lo();

	if (fchdir(r) != 0) fail_errno("chdir " + c.root);
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

// The program's process: its fds in place, everything else closed at exec.
[[noreturn]] void exec_program(const Child& c) {
	const Plan& p = *c.plan;
	int high = 3;
	for (auto& [src, target] : c.fds) high = std::max(high, target + 1);
	// Move every fd the jailer still needs above the targets first, so
	// placing one target cannot close another's source.
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
	auto cloexec_range = [&](unsigned lo, unsigned hi) {
		if (syscall(SYS_close_range, lo, hi, CLOSE_RANGE_CLOEXEC) == 0) return;
		// Before Linux 5.11: one by one, as the jail's /proc lists them
		// (fds inherited above the new RLIMIT_NOFILE included).
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
	};
	unsigned int from = 0;
	for (int k : keep) {
		if (static_cast<unsigned>(k) > from) cloexec_range(from, static_cast<unsigned>(k) - 1);
		from = static_cast<unsigned>(k) + 1;
	}
	cloexec_range(from, ~0U);

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

int status_code(int st) {
	if (WIFEXITED(st)) return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
	return kExitFailure;
}

// PID 1 of the jail: build the root, drop privileges, start the program,
// forward signals to it and reap whatever gets reparented here.
[[noreturn]] void stub_main(Child& c) {
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

void write_map(pid_t pid, const char* file, const std::string& content) {
	std::string path = strprintf("/proc/%d/%s", static_cast<int>(pid), file);
	UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
	if (!fd || write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
		fail(errno_message("write " + path, errno) + userns_hint());
}

UniqueFd open_fd_spec(const FdSpec& f) {
	int flags = f.read_write ? O_RDWR | O_CREAT : O_RDONLY;
	int fd = open(f.path.c_str(), flags | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		int err = errno;
		fail(errno_message("open " + f.path, err) + open_hint(f.path, err, geteuid() == 0));
	}
	return UniqueFd(fd);
}

}  // namespace

std::string find_program(const std::string& name) {
	if (name.find('/') != std::string::npos) return name;
	const char* path = getenv("PATH");
	std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
	size_t i = 0;
	while (i <= dirs.size()) {
		size_t j = dirs.find(':', i);
		if (j == std::string::npos) j = dirs.size();
		std::string d = j > i ? dirs.substr(i, j - i) : ".";
		std::string cand = d + "/" + name;
		struct stat st;
		if (stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(cand.c_str(), X_OK) == 0) return cand;
		i = j + 1;
	}
	fail(strprintf("%s: command not found in PATH", name.c_str()));
}

int run(const Plan& plan) {
	// Until the child runs, SIGTERM/SIGINT/SIGHUP wait, so an early signal
	// cannot leave the cgroup or the jail root behind.
	sigset_t mask, old_mask;
	sigemptyset(&mask);
	for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, sig);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	ScopeGuard restore_mask([&] { sigprocmask(SIG_SETMASK, &old_mask, nullptr); });

	const bool root_user = geteuid() == 0;
	Child c;
	c.plan = &plan;
	c.old_mask = old_mask;
	c.userns = plan.namespaces.user;
	c.root_user = root_user;

	UniqueFd exec_fd(open(plan.exec_path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!exec_fd) fail_errno("open " + plan.exec_path);
	c.exec_fd = exec_fd.get();
	c.libs = program_dependencies(exec_fd.get(), plan.exec_path);
	for (auto& l : c.libs) BLOG_DEBUG("library %s -> %s", l.jail_path.c_str(), l.host_path.c_str());

	std::vector<UniqueFd> opened;
	for (const FdSpec& f : plan.fds) {
		opened.push_back(open_fd_spec(f));
		c.fds.emplace_back(opened.back().get(), f.fd);
	}
	for (int fd : plan.keep_fds)
		if (fcntl(fd, F_GETFD) < 0) fail(strprintf("keep fd %d: not open in the jailer", fd));

	std::unique_ptr<Cgroup> cgroup;
	if (plan.use_cgroup) {
		CgroupLimits cl;
		cl.cpu_quota_us = plan.limits.cpu_quota_us;
		cl.cpu_period_us = plan.limits.cpu_period_us;
		cl.memory_bytes = plan.limits.memory_bytes;
		cl.pids_max = plan.limits.pids_max;
		cgroup = Cgroup::create(plan.id, plan.parent_cgroup, cl);
		BLOG_INFO("cgroup v%d: %s", cgroup->version(), cgroup->dirs().empty() ? "" : cgroup->dirs()[0].c_str());
	}

	JailRoot root(plan.jail_root);
	c.root = root.path();
	root.ensure("/proc", true);
	root.ensure("/dev", true);
	for (const JailFile& l : c.libs) root.ensure(l.jail_path, false);
	c.binds = plan.bind_mounts;
	std::sort(c.binds.begin(), c.binds.end(), [](auto& a, auto& b) { return a.dest < b.dest; });
	for (const BindMount& b : c.binds) {
		struct stat st;
		if (stat(b.source.c_str(), &st) != 0)
			fail(strprintf("bind %s to %s%s: %s", b.source.c_str(), c.root.c_str(), b.dest.c_str(),
				       strerror(errno)));
		root.ensure(b.dest, S_ISDIR(st.st_mode));
	}

	int go[2], err[2];
	if (pipe2(go, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) fail_errno("pipe");
	UniqueFd go_r(go[0]), go_w(go[1]), err_r(err[0]), err_w(err[1]);
	c.go_fd = go_r.get();
	c.err_fd = err_w.get();

	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | SIGCHLD;
	if (plan.namespaces.user) flags |= CLONE_NEWUSER;
	if (plan.namespaces.network) flags |= CLONE_NEWNET;
	if (plan.namespaces.uts) flags |= CLONE_NEWUTS;
	if (plan.namespaces.ipc) flags |= CLONE_NEWIPC;
	std::fflush(nullptr);
	long pid = syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
	if (pid < 0) {
		int e = errno;
		fail(errno_message("clone into new namespaces", e) + (plan.namespaces.user ? userns_hint() : ""));
	}
	if (pid == 0) {
		go_w.release();  // the child's copies are closed by close_range before exec
		err_r.release();
		stub_main(c);
	}
	go_r.reset();
	err_w.reset();
	bool reaped = false;
	int status = 0;
	ScopeGuard kill_child([&] {
		if (reaped) return;
		kill(static_cast<pid_t>(pid), SIGKILL);
		while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
		}
	});

	if (cgroup) cgroup->add(static_cast<pid_t>(pid));
	if (plan.namespaces.user) {
		uid_t uid = geteuid();
		gid_t gid = getegid();
		if (root_user) {
			std::string um = "0 0 1\n", gm = "0 0 1\n";
			if (plan.uid != 0) um += strprintf("%u %u 1\n", plan.uid, plan.uid);
			if (plan.gid != 0) gm += strprintf("%u %u 1\n", plan.gid, plan.gid);
			write_map(static_cast<pid_t>(pid), "uid_map", um);
			write_map(static_cast<pid_t>(pid), "gid_map", gm);
		} else {
			write_map(static_cast<pid_t>(pid), "uid_map", strprintf("%u %u 1\n", plan.uid, uid));
			write_map(static_cast<pid_t>(pid), "setgroups", "deny");
			write_map(static_cast<pid_t>(pid), "gid_map", strprintf("%u %u 1\n", plan.gid, gid));
		}
	}
	write_all(go_w.get(), "g", 1, "start the jail");
	go_w.reset();
	std::string setup_error = read_all(err_r.get(), 64 << 10, "jail setup");
	err_r.reset();
	if (!setup_error.empty()) fail(setup_error);

	// The program runs: forward signals until the jail's PID 1 is gone.
	for (;;) {
		pid_t r = waitpid(static_cast<pid_t>(pid), &status, WNOHANG);
		if (r == pid) break;
		if (r < 0 && errno != EINTR) fail_errno("waitpid");
		siginfo_t si;
		int sig = sigwaitinfo(&mask, &si);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			BLOG_INFO("forwarding signal %d", sig);
			kill(static_cast<pid_t>(pid), sig);
		}
	}
	reaped = true;
	int code = status_code(status);
	if (cgroup) {
		CgroupStats s = cgroup->stats();
		if (!plan.stats_out.empty()) json::save_file(plan.stats_out, stats_json(s), false);
		cgroup->remove();
	} else if (!plan.stats_out.empty()) {
		json::save_file(plan.stats_out, json::Value::object(), false);
	}
	return code;
}

}  // namespace bencher::jail
