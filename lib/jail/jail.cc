// jail.cc: a run's steps in the order bencher-jailer(1) documents. The parent
// does what needs the host (opening --exec and --fd files, the cgroup, the
// mount points in the jail root, the uid/gid maps), then lets the cloned
// child (child.cc) build the jail and start the program, forwards signals
// and cleans up on every path.
#include "jail/jail.hh"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/json.hh"
#include "common/log.hh"
#include "jail/cgroup.hh"
#include "jail/child.hh"
#include "jail/elf.hh"
#include "jail/explain.hh"
#include "jail/root.hh"
#include "jail/setup.hh"

namespace bencher::jail {

namespace {

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

// The files the program gets, open before anything is jailed. Their fds
// stay owned here; the child only refers to them.
struct Opened {
	UniqueFd exec_fd;
	std::vector<UniqueFd> fds;
};

// Returns the libraries the program needs (its ELF read through the fd).
std::vector<JailFile> open_files(const Plan& plan, Child& c, Opened& o) {
	o.exec_fd.reset(open(plan.exec_path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!o.exec_fd) fail_errno("open " + plan.exec_path);
	c.exec_fd = o.exec_fd.get();
	std::vector<JailFile> libs = program_dependencies(o.exec_fd.get(), plan.exec_path);
	for (auto& l : libs) BLOG_DEBUG("library %s -> %s", l.jail_path.c_str(), l.host_path.c_str());
	for (const FdSpec& f : plan.fds) {
		o.fds.push_back(open_fd_spec(f));
		c.fds.emplace_back(o.fds.back().get(), f.fd);
	}
	for (int fd : plan.keep_fds)
		if (fcntl(fd, F_GETFD) < 0) fail(strprintf("keep fd %d: not open in the jailer", fd));
	return libs;
}

std::unique_ptr<Cgroup> make_jail_cgroup(const Plan& plan) {
	if (!plan.use_cgroup) return nullptr;
	CgroupLimits cl;
	cl.cpu_quota_us = plan.limits.cpu_quota_us;
	cl.cpu_period_us = plan.limits.cpu_period_us;
	cl.memory_bytes = plan.limits.memory_bytes;
	cl.pids_max = plan.limits.pids_max;
	auto cg = Cgroup::create(plan.id, plan.parent_cgroup, cl);
	BLOG_INFO("cgroup v%d: %s", cg->version(), cg->dirs().empty() ? "" : cg->dirs()[0].c_str());
	return cg;
}

// Root in the jail is the caller (root) or the caller's own uid; the
// program's ids are mapped to themselves, or to the caller's.
void write_id_maps(pid_t pid, const Plan& plan, bool root_user) {
	if (root_user) {
		std::string um = "0 0 1\n", gm = "0 0 1\n";
		if (plan.uid != 0) um += strprintf("%u %u 1\n", plan.uid, plan.uid);
		if (plan.gid != 0) gm += strprintf("%u %u 1\n", plan.gid, plan.gid);
		write_map(pid, "uid_map", um);
		write_map(pid, "gid_map", gm);
	} else {
		write_map(pid, "uid_map", strprintf("%u %u 1\n", plan.uid, geteuid()));
		write_map(pid, "setgroups", "deny");
		write_map(pid, "gid_map", strprintf("%u %u 1\n", plan.gid, getegid()));
	}
}

// Clones the jail's PID 1 into fresh namespaces; it runs stub_main.
pid_t clone_stub(const Plan& plan, Child& c, UniqueFd& go_w, UniqueFd& err_r) {
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
	return static_cast<pid_t>(pid);
}

// The program runs: forward signals until the jail's PID 1 is gone.
int wait_forwarding(pid_t pid, const sigset_t& mask) {
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) return status;
		if (r < 0 && errno != EINTR) fail_errno("waitpid");
		siginfo_t si;
		int sig = sigwaitinfo(&mask, &si);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			BLOG_INFO("forwarding signal %d", sig);
			kill(pid, sig);
		}
	}
}

void write_stats(const Plan& plan, Cgroup* cgroup) {
	if (cgroup) {
		CgroupStats s = cgroup->stats();
		if (!plan.stats_out.empty()) json::save_file(plan.stats_out, stats_json(s), false);
		cgroup->remove();
	} else if (!plan.stats_out.empty()) {
		json::save_file(plan.stats_out, json::Value::object(), false);
	}
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

	Child c;
	c.plan = &plan;
	c.old_mask = old_mask;
	c.userns = plan.namespaces.user;
	c.root_user = geteuid() == 0;
	Opened opened;
	std::vector<JailFile> libs = open_files(plan, c, opened);
	std::unique_ptr<Cgroup> cgroup = make_jail_cgroup(plan);
	JailRoot root(plan.jail_root);
	c.root = root.path();
	c.ops = root_ops(plan, libs, is_char_dev);
	make_mount_points(root, c.ops);

	int go[2], err[2];
	if (pipe2(go, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) fail_errno("pipe");
	UniqueFd go_r(go[0]), go_w(go[1]), err_r(err[0]), err_w(err[1]);
	c.go_fd = go_r.get();
	c.err_fd = err_w.get();
	pid_t pid = clone_stub(plan, c, go_w, err_r);
	go_r.reset();
	err_w.reset();
	bool reaped = false;
	ScopeGuard kill_child([&] {
		if (reaped) return;
		kill(pid, SIGKILL);
		while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
		}
	});

	if (cgroup) cgroup->add(pid);
	if (plan.namespaces.user) write_id_maps(pid, plan, c.root_user);
	write_all(go_w.get(), "g", 1, "start the jail");
	go_w.reset();
	std::string setup_error = read_all(err_r.get(), 64 << 10, "jail setup");
	err_r.reset();
	if (!setup_error.empty()) fail(setup_error);

	int status = wait_forwarding(pid, mask);
	reaped = true;
	write_stats(plan, cgroup.get());
	return status_code(status);
}

}  // namespace bencher::jail
