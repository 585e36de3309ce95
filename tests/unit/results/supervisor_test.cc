// Unit tests for lib/results/supervisor: real child processes, a fake clock
// for the timeout and the kill grace, and signals sent to ourselves for a
// cancel, all read from the supervisor's signalfd as collect-results does.
#include "results/supervisor.hh"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.hh"

using namespace bencher;
using namespace bencher::results;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
	Supervisor::Clock::time_point t = Supervisor::Clock::time_point(1000s);
	std::function<Supervisor::Clock::time_point()> fn() {
		return [this] { return t; };
	}
};

Supervisor::Options opts(std::vector<std::string> cmd, double timeout = 0) {
	Supervisor::Options o;
	o.command = std::move(cmd);
	o.timeout_s = timeout;
	o.kill_grace_s = 2;
	return o;
}

// Starts COMMAND with a throwaway control socket; returns its stdout (the
// console), read to check it got as far as ignoring SIGTERM.
UniqueFd start(Supervisor& s) {
	int c[2], p[2];
	if (pipe2(c, O_CLOEXEC) < 0 || pipe2(p, O_CLOEXEC) < 0) fail_errno("pipe");
	UniqueFd ctl_r(c[0]), console_r(p[0]);
	s.start(UniqueFd(c[1]), UniqueFd(p[1]));
	return console_r;
}

constexpr const char* kStubborn = "trap '' TERM; echo ready; exec sleep 30";

void wait_ready(const UniqueFd& console) {
	char buf[6];
	ASSERT_EQ(read_full(console.get(), buf, sizeof buf, "console"), sizeof buf);
	ASSERT_EQ(std::string(buf, sizeof buf), "ready\n");
}

// Reads signals until COMMAND is reaped, for at most 10 s of real time.
void wait_exit(Supervisor& s) {
	for (int i = 0; i < 100 && !s.exited(); i++) {
		pollfd p{s.signal_fd(), POLLIN, 0};
		if (poll(&p, 1, 100) > 0) s.on_signal();
	}
	ASSERT_TRUE(s.exited());
}

}  // namespace

TEST(Supervisor, ReportsTheExitStatus) {
	Supervisor s(opts({"sh", "-c", "exit 3"}));
	start(s);
	wait_exit(s);
	EXPECT_EQ(s.status(), 3);
	EXPECT_EQ(s.exec_error(), "");
	EXPECT_FALSE(s.timed_out());
	EXPECT_TRUE(s.next_deadline());  // the drain
}

TEST(Supervisor, ACommandThatCannotRunIsReportedNotThrown) {
	Supervisor s(opts({"/nonexistent/vmm"}));
	start(s);
	EXPECT_NE(s.exec_error().find("cannot run /nonexistent/vmm"), std::string::npos) << s.exec_error();
	wait_exit(s);
	EXPECT_EQ(s.status(), 127);
}

TEST(Supervisor, ControlSocketAtItsFd) {
	Supervisor::Options o = opts({"sh", "-c", "echo hi >&3"});
	o.vsock_fd = 3;
	Supervisor s(o);
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	UniqueFd r(p[0]);
	s.start(UniqueFd(p[1]), open_file("/dev/null", O_WRONLY));
	EXPECT_EQ(read_all(r.get(), 100, "fd 3"), "hi\n");
	wait_exit(s);
	EXPECT_EQ(s.status(), 0);
}

TEST(Supervisor, TimeoutThenKillGraceOnTheFakeClock) {
	FakeClock clock;
	// Ignores SIGTERM (and so does its sleep): only the SIGKILL after the
	// grace period ends it.
	Supervisor s(opts({"sh", "-c", kStubborn}, 5), clock.fn());
	UniqueFd console = start(s);
	wait_ready(console);
	EXPECT_EQ(s.next_deadline(), clock.t + 5s);
	clock.t += 4s;
	s.tick();
	EXPECT_FALSE(s.timed_out());
	clock.t += 1s;
	s.tick();
	EXPECT_TRUE(s.timed_out());
	EXPECT_EQ(s.next_deadline(), clock.t + 2s);  // the kill grace
	pollfd p{s.signal_fd(), POLLIN, 0};
	EXPECT_EQ(poll(&p, 1, 300), 0);  // SIGTERM changed nothing
	EXPECT_FALSE(s.exited());
	clock.t += 2s;
	s.tick();
	wait_exit(s);
	EXPECT_EQ(s.status(), 128 + SIGKILL);
	EXPECT_EQ(s.wall_ms(), 7000);
}

TEST(Supervisor, ASignalCancelsAndASecondKills) {
	Supervisor s(opts({"sh", "-c", kStubborn}));
	UniqueFd console = start(s);
	wait_ready(console);
	kill(getpid(), SIGINT);  // blocked: it arrives on the signalfd
	pollfd p{s.signal_fd(), POLLIN, 0};
	ASSERT_EQ(poll(&p, 1, 5000), 1);
	s.on_signal();
	EXPECT_EQ(s.cancel_signal(), SIGINT);
	EXPECT_FALSE(s.exited());
	kill(getpid(), SIGTERM);
	wait_exit(s);
	EXPECT_EQ(s.cancel_signal(), SIGINT);
	EXPECT_EQ(s.status(), 128 + SIGKILL);
}
