// share.cc: starting and stopping virtiofsd (share.hh). The child sets up
// its mount namespace and execs; anything failing there is reported on the
// log and ends the child, and the parent sees the socket go unanswered.
#include "vmtest/share.hh"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "common/error.hh"

namespace bencher::vmtest {

namespace {

UniqueFd unix_socket() {
	UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!s) fail_errno("socket");
	return s;
}

sockaddr_un address(const std::string& path) {
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	if (path.size() >= sizeof a.sun_path) fail("virtiofsd socket " + path + ": path too long");
	std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
	return a;
}

void write_text(const char* path, const std::string& text) {
	int fd = ::open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) fail_errno(path);
	::close(fd);
}

// In the child: a mount namespace of its own (and, for an ordinary user, a
// user namespace whose root is that user, so virtiofsd's sandbox may be
// built), where the share is bound at `view`, read-only unless writable.
void enter_sandbox(const Share& s, const std::string& view) {
	uid_t uid = ::geteuid();
	gid_t gid = ::getegid();
	if (uid != 0) {
		if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) fail_errno("unshare");
		write_text("/proc/self/setgroups", "deny");
		write_text("/proc/self/uid_map", strprintf("0 %u 1\n", uid));
		write_text("/proc/self/gid_map", strprintf("0 %u 1\n", gid));
	} else if (::unshare(CLONE_NEWNS) < 0) {
		fail_errno("unshare");
	}
	if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) fail_errno("make / private");
	if (::mount(s.source.c_str(), view.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
		fail_errno("bind " + s.source);
	if (s.writable) return;
	mount_attr attr{};
	attr.attr_set = MOUNT_ATTR_RDONLY;
	if (::mount_setattr(AT_FDCWD, view.c_str(), AT_RECURSIVE, &attr, sizeof attr) < 0)
		fail_errno("read-only " + s.source);
}

[[noreturn]] void exec_virtiofsd(const Share& s, const std::string& view, int listen_fd, int log_fd) {
	try {
		::prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (::dup2(log_fd, 2) < 0 || ::dup2(log_fd, 1) < 0) _exit(127);
		enter_sandbox(s, view);
		int fl = ::fcntl(listen_fd, F_GETFD);
		if (fl < 0 || ::fcntl(listen_fd, F_SETFD, fl & ~FD_CLOEXEC) < 0) fail_errno("socket fd");
		std::vector<std::string> args = {kVirtiofsd, strprintf("--fd=%d", listen_fd), "-o", "source=" + view,
						 "-o", s.writable ? "cache=auto" : "cache=always", "-o", "log_level=warn"};
		// Raising RLIMIT_NOFILE needs a capability a user namespace does not give.
		if (::geteuid() != 0 || ::getuid() != 0) args.push_back("--rlimit-nofile=0");
		std::vector<char*> argv;
		for (std::string& a : args) argv.push_back(a.data());
		argv.push_back(nullptr);
		::execv(kVirtiofsd, argv.data());
		fail_errno(std::string("exec ") + kVirtiofsd);
	} catch (const Error& e) {
		std::fprintf(stderr, "virtiofsd for %s: %s\n", s.source.c_str(), e.what());
	}
	_exit(127);
}

}  // namespace

Virtiofsd::Virtiofsd(const Share& share, const std::string& dir, const std::string& log) : share_(share) {
	std::string path = dir + "/" + share.tag + ".sock";
	std::string view = dir + "/" + share.tag;
	if (::mkdir(view.c_str(), 0700) < 0) fail_errno("mkdir " + view);
	UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
	if (!log_fd) fail_errno(log);
	UniqueFd listener = unix_socket();
	sockaddr_un a = address(path);
	if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail_errno("bind " + path);
	if (::listen(listener.get(), 1) < 0) fail_errno("listen " + path);
	pid_ = ::fork();
	if (pid_ < 0) fail_errno("fork");
	if (pid_ == 0) exec_virtiofsd(share, view, listener.get(), log_fd.get());
	// The listening socket queues this connection until virtiofsd accepts
	// it, so there is no race with its start; the path is then not needed.
	try {
		conn_ = unix_socket();
		int rc = ::connect(conn_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
		int err = errno;
		::unlink(path.c_str());
		if (rc < 0) fail_errno("connect " + path, err);
	} catch (...) {
		stop();
		throw;
	}
}

Virtiofsd::~Virtiofsd() { stop(); }

void Virtiofsd::stop() {
	conn_.reset();
	if (pid_ <= 0) return;
	::kill(pid_, SIGTERM);
	int st;
	while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
	}
	pid_ = -1;
}

}  // namespace bencher::vmtest
