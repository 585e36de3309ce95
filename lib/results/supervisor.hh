// supervisor.hh: collect-results' hold on COMMAND (the jailer + VMM chain):
// starts it in a process group of its own with the control socket and the
// console pipe, stops it on timeout or cancel (SIGTERM, then SIGKILL after a
// grace period), and reaps it. Signals arrive through a signalfd, as events
// of the caller's poll loop; the clock is a seam, so tests can step it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.hh"

namespace bencher::results {

class Supervisor {
public:
	using Clock = std::chrono::steady_clock;
	struct Options {
		std::vector<std::string> command;
		int vsock_fd = 3;          // where COMMAND gets the control socket
		double timeout_s = 0;      // 0: none
		double kill_grace_s = 2;   // SIGTERM -> SIGKILL
		double drain_s = 2;        // after COMMAND exits, how long its output may still arrive
	};

	// Blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP for good: from here on they
	// are read from signal_fd(), and a cancel that comes while the results
	// are written waits for them.
	explicit Supervisor(Options o, std::function<Clock::time_point()> now = Clock::now);

	// Forks and executes COMMAND with `control` at vsock_fd and `console` as
	// its stdout. A COMMAND that cannot be executed is an exec_error(), not
	// an exception: the run still reports.
	void start(UniqueFd control, UniqueFd console);

	int signal_fd() const { return sigfd_.get(); }
	// Reads one signal: reaps COMMAND, or cancels (a second signal kills).
	void on_signal();
	// Acts on the deadlines that have passed: the timeout, the kill grace.
	void tick();
	std::optional<Clock::time_point> next_deadline() const;
	// SIGKILL now, if COMMAND is still there.
	void kill_now() { stop(true); }

	bool exited() const { return exited_; }
	bool drain_over() const { return drain_until_ && now_() >= *drain_until_; }
	int status() const { return status_; }  // shell-style: code or 128+signal; -1 while running
	const std::string& exec_error() const { return exec_error_; }
	bool timed_out() const { return timed_out_; }
	int cancel_signal() const { return cancel_signal_; }
	double wall_ms() const;  // start to exit (or to now, while running)

private:
	void stop(bool hard);
	void reap();
	Clock::time_point after(double seconds) const;

	Options o_;
	std::function<Clock::time_point()> now_;
	UniqueFd sigfd_;
	pid_t pid_ = -1;
	Clock::time_point start_;
	std::optional<Clock::time_point> end_, timeout_at_, kill_at_, drain_until_;
	bool exited_ = false;
	int status_ = -1;
	std::string exec_error_;
	bool timed_out_ = false;
	int cancel_signal_ = 0;
	bool term_sent_ = false;
	bool killed_ = false;
};

}  // namespace bencher::results
