// supervisor.cc: start, stop and reap COMMAND (see supervisor.hh).
#include "results/supervisor.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.hh"
#include "common/exit_codes.hh"
#include "common/log.hh"

namespace bencher::results {

namespace {

Supervisor::Clock::duration in_seconds(double s) {
	return std::chrono::duration_cast<Supervisor::Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

Supervisor::Supervisor(Options o, std::function<Clock::time_point()> now) : o_(std::move(o)), now_(std::move(now)) {
	sigset_t set;
	sigemptyset(&set);
	for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
	if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) fail_errno("sigprocmask");
	sigfd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!sigfd_) fail_errno("signalfd");
	signal(SIGPIPE, SIG_IGN);
}

Supervisor::Clock::time_point Supervisor::after(double seconds) const {
	return now_() + in_seconds(seconds);
}

void Supervisor::start(UniqueFd control, UniqueFd console) {
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) fail_errno("pipe");
	UniqueFd err_r(ep[0]), err_w(ep[1]);
	std::vector<char*> argv;
	for (const auto& a : o_.command) argv.push_back(const_cast<char*>(a.c_str()));
	argv.push_back(nullptr);

	start_ = now_();
	pid_ = fork();
	if (pid_ < 0) fail_errno("fork");
	if (pid_ == 0) {
		// Child: only async-signal-safe calls until exec; errno goes back
		// through the CLOEXEC pipe, which closes silently on success.
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		int v = fcntl(control.get(), F_DUPFD, 10);
		int c = fcntl(console.get(), F_DUPFD, 10);
		if (v >= 0 && c >= 0 && dup2(c, 1) >= 0 && dup2(v, o_.vsock_fd) >= 0) {
			close(c);
			close(v);
			execvp(argv[0], argv.data());
		}
		int e = errno;
		(void)!write(err_w.get(), &e, sizeof e);
		_exit(127);  // what a shell reports for a command it could not run
	}
	setpgid(pid_, pid_);
	control.reset();
	console.reset();
	err_w.reset();
	int e = 0;
	if (read_full(err_r.get(), &e, sizeof e, "exec status") == sizeof e) {
		exec_error_ = errno_message("cannot run " + o_.command[0], e);
		BLOG_ERROR("%s", exec_error_.c_str());
	}
	if (o_.timeout_s > 0) timeout_at_ = start_ + in_seconds(o_.timeout_s);
}

void Supervisor::stop(bool hard) {
	if (exited_ || pid_ <= 0) return;
	if (!hard && !term_sent_) {
		BLOG_INFO("sending SIGTERM to COMMAND");
		kill(-pid_, SIGTERM);
		term_sent_ = true;
		kill_at_ = after(o_.kill_grace_s);
		return;
	}
	if (!killed_) {
		BLOG_INFO("sending SIGKILL to COMMAND");
		kill(-pid_, SIGKILL);
		killed_ = true;
		kill_at_.reset();
	}
}

void Supervisor::reap() {
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p != pid_) continue;
		exited_ = true;
		end_ = now_();
		status_ = WIFEXITED(st) ? WEXITSTATUS(st) : exit_codes::signal_code(WTERMSIG(st));
		BLOG_INFO("COMMAND exited with status %d after %.0f ms", status_, wall_ms());
		// Whatever it left in flight may still be read, for a while.
		drain_until_ = after(o_.drain_s);
		kill_at_.reset();
	}
}

void Supervisor::on_signal() {
	signalfd_siginfo si;
	if (read(sigfd_.get(), &si, sizeof si) != sizeof si) return;
	if (si.ssi_signo == SIGCHLD) {
		reap();
		return;
	}
	// SIGTERM/SIGINT/SIGHUP: cancel. A second one kills at once.
	if (cancel_signal_ == 0) {
		cancel_signal_ = static_cast<int>(si.ssi_signo);
		BLOG_WARN("cancelled by signal %d: stopping COMMAND", cancel_signal_);
		stop(false);
	} else {
		stop(true);
	}
}

void Supervisor::tick() {
	auto now = now_();
	if (timeout_at_ && now >= *timeout_at_ && !exited_) {
		timeout_at_.reset();
		timed_out_ = true;
		BLOG_WARN("timeout after %g s: stopping COMMAND", o_.timeout_s);
		stop(false);
	}
	if (kill_at_ && now >= *kill_at_) stop(true);
}

std::optional<Supervisor::Clock::time_point> Supervisor::next_deadline() const {
	std::optional<Clock::time_point> next;
	for (const auto& d : {timeout_at_, kill_at_, drain_until_})
		if (d && (!next || *d < *next)) next = d;
	return next;
}

double Supervisor::wall_ms() const {
	return std::chrono::duration<double, std::milli>(end_.value_or(now_()) - start_).count();
}

}  // namespace bencher::results
