// virtiofs-test-host: the host end of bencher-vmm's --virtiofs for the boot
// tests (bencher-vmtest's role, reduced). For each TAG=DIR it starts the
// real virtiofsd on DIR with a listening socket (--fd, as virtiofsd takes
// it), connects to it, and runs COMMAND with the connected sockets at fds
// 3, 4, ... in order, so COMMAND can say `--virtiofs TAG=3`. Each
// virtiofsd's pid goes to stderr (a test may kill one). Exits with
// COMMAND's status once COMMAND and every virtiofsd have ended.
//   virtiofs-test-host [--virtiofsd PATH] TAG=DIR... -- COMMAND...
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/error.hh"
#include "common/fd.hh"

using namespace bencher;

namespace {
struct Share {
	std::string tag, dir;
};

// An abstract-namespace listening socket (autobind: no path to clean up)
// and a connection to it, queued until virtiofsd accepts.
void socket_pair(UniqueFd& listening, UniqueFd& connected) {
	listening.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	if (!listening || bind(listening.get(), reinterpret_cast<sockaddr*>(&a), sizeof(sa_family_t)) < 0 ||
	    listen(listening.get(), 1) < 0)
		fail_errno("listening socket");
	socklen_t len = sizeof a;
	if (getsockname(listening.get(), reinterpret_cast<sockaddr*>(&a), &len) < 0) fail_errno("getsockname");
	connected.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!connected || connect(connected.get(), reinterpret_cast<sockaddr*>(&a), len) < 0) fail_errno("connect");
}

pid_t start_virtiofsd(const std::string& virtiofsd, const Share& s, const UniqueFd& listening) {
	pid_t pid = fork();
	if (pid < 0) fail_errno("fork");
	if (pid == 0) {
		// dup2 clears close-on-exec, but is a no-op when the fd is 3 already.
		if (listening.get() == 3) fcntl(3, F_SETFD, 0);
		else dup2(listening.get(), 3);
		std::string src = "source=" + s.dir;
		execl(virtiofsd.c_str(), virtiofsd.c_str(), "--fd=3", "-o", src.c_str(), "-o", "cache=auto", "-o",
		      "sandbox=chroot", "-o", "log_level=warn", static_cast<char*>(nullptr));
		_exit(127);
	}
	return pid;
}

int wait_status(pid_t pid) {
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
}  // namespace

int main(int argc, char** argv) {
	return run_main("virtiofs-test-host", [&] {
		std::string virtiofsd = "/usr/lib/qemu/virtiofsd";
		std::vector<Share> shares;
		int i = 1;
		for (; i < argc && std::string(argv[i]) != "--"; i++) {
			std::string a = argv[i];
			if (a == "--virtiofsd" && i + 1 < argc) {
				virtiofsd = argv[++i];
				continue;
			}
			auto eq = a.find('=');
			if (eq == std::string::npos) fail_usage("expected TAG=DIR, got " + a);
			shares.push_back({a.substr(0, eq), a.substr(eq + 1)});
		}
		if (i + 1 >= argc || shares.empty()) fail_usage("usage: virtiofs-test-host TAG=DIR... -- COMMAND...");
		std::vector<pid_t> daemons;
		std::vector<UniqueFd> conns;
		for (const auto& s : shares) {
			UniqueFd listening, conn;
			socket_pair(listening, conn);
			daemons.push_back(start_virtiofsd(virtiofsd, s, listening));
			fprintf(stderr, "virtiofs-test-host: virtiofsd %s pid %d\n", s.tag.c_str(), static_cast<int>(daemons.back()));
			conns.push_back(std::move(conn));
		}
		pid_t cmd = fork();
		if (cmd < 0) fail_errno("fork");
		if (cmd == 0) {
			// Up out of the way first, then down to 3, 4, ...: no fd is overwritten before it is moved.
			std::vector<int> high;
			for (auto& c : conns) high.push_back(fcntl(c.get(), F_DUPFD, 100));
			for (size_t k = 0; k < high.size(); k++) dup2(high[k], 3 + static_cast<int>(k));
			execvp(argv[i + 1], argv + i + 1);
			_exit(127);
		}
		conns.clear();  // the VMM holds the only frontend ends: its exit ends each virtiofsd
		int status = wait_status(cmd);
		for (pid_t d : daemons) {
			int st = wait_status(d);
			if (st != 0) fprintf(stderr, "virtiofs-test-host: virtiofsd exited with %d\n", st);
		}
		return status;
	});
}
