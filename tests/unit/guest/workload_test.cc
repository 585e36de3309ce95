// Unit tests for lib/guest/workload and run_and_report: real workloads (sh)
// run as in bencher-init's test mode, their results caught by a fake sink;
// the codes init reports (125/126/127, 128+N), streaming while the workload
// runs, the output limit, cgroup placement before exec, signal forwarding.
#include "guest/workload.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/fd.hh"
#include "fake_sink.hh"
#include "guest/init.hh"
#include "vsock/control.hh"

namespace guest = bencher::guest;
namespace results = bencher::results;
namespace vsock = bencher::vsock;
using bencher::TempDir;
using guest::test::FakeSink;

namespace {

results::RunConfig shell(const std::string& script) {
	results::RunConfig cfg;
	cfg.argv = {"sh", "-c", script};
	return cfg;
}

guest::WorkloadSettings test_mode() {
	guest::WorkloadSettings s;
	s.in_guest = false;
	return s;
}

std::string slurp(const std::string& path) { return bencher::read_file(path, 1 << 20); }

void touch(const std::string& path) {
	bencher::UniqueFd fd(open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	ASSERT_TRUE(fd) << path;
}

}  // namespace

TEST(Workload, StreamsAndExitCode) {
	FakeSink sink;
	auto rec = guest::run_workload(shell("echo out; echo err >&2; exit 3"), test_mode(), sink);
	EXPECT_EQ(rec.exit_code, 3);
	EXPECT_EQ(rec.signal, 0);
	EXPECT_EQ(sink.data(vsock::kPortStdout), "out\n");
	EXPECT_EQ(sink.data(vsock::kPortStderr), "err\n");
	EXPECT_EQ(rec.stdout_bytes, 4u);
	EXPECT_EQ(rec.stderr_bytes, 4u);
	EXPECT_TRUE(rec.error.empty());
}

TEST(Workload, KilledBySignalIs128PlusN) {
	FakeSink sink;
	auto rec = guest::run_workload(shell("kill -KILL $$"), test_mode(), sink);
	EXPECT_EQ(rec.signal, SIGKILL);
	EXPECT_EQ(rec.exit_code, 128 + SIGKILL);
}

TEST(Workload, NotFoundIs127) {
	FakeSink sink;
	results::RunConfig cfg;
	cfg.argv = {"/nonexistent/bencher-test-prog"};
	auto rec = guest::run_workload(cfg, test_mode(), sink);
	EXPECT_EQ(rec.exit_code, guest::kNotFound);
	EXPECT_EQ(rec.error, "exec /nonexistent/bencher-test-prog: No such file or directory");
	EXPECT_EQ(sink.data(vsock::kPortStderr), "bencher-init: " + rec.error + "\n");
}

TEST(Workload, NotExecutableIs126) {
	TempDir dir("guest-test");
	std::string prog = dir.path() + "/prog";
	touch(prog);
	FakeSink sink;
	results::RunConfig cfg;
	cfg.argv = {prog};
	auto rec = guest::run_workload(cfg, test_mode(), sink);
	EXPECT_EQ(rec.exit_code, guest::kCannotExec);
	EXPECT_NE(rec.error.find("Permission denied"), std::string::npos) << rec.error;
}

TEST(Workload, SetupFailuresAre125) {
	FakeSink sink;
	auto cfg = shell("exit 0");
	cfg.user = "no-such-user-bencher";
	auto rec = guest::run_workload(cfg, test_mode(), sink);
	EXPECT_EQ(rec.exit_code, guest::kSetupFailed);
	EXPECT_NE(rec.error.find("no-such-user-bencher"), std::string::npos) << rec.error;
	EXPECT_EQ(sink.data(vsock::kPortStderr), "bencher-init: " + rec.error + "\n");

	// In the child, after the fork: a working directory that is not there
	// (test mode creates none).
	FakeSink sink2;
	cfg = shell("exit 0");
	cfg.workdir = "/nonexistent/bencher-workdir";
	rec = guest::run_workload(cfg, test_mode(), sink2);
	EXPECT_EQ(rec.exit_code, guest::kSetupFailed);
	EXPECT_EQ(rec.error, "chdir to the working directory: No such file or directory");
}

TEST(Workload, EnvironmentDefaultsAndWorkdir) {
	TempDir dir("guest-test");
	FakeSink sink;
	auto cfg = shell("echo \"$HOME:$FOO:$(pwd)\"; test -n \"$PATH\" && echo path");
	cfg.env = {"FOO=bar"};
	cfg.workdir = dir.path();
	auto rec = guest::run_workload(cfg, test_mode(), sink);
	EXPECT_EQ(rec.exit_code, 0);
	EXPECT_EQ(sink.data(vsock::kPortStdout), "/:bar:" + dir.path() + "\npath\n");

	// Given ones are kept.
	FakeSink sink2;
	cfg = shell("echo \"$HOME $PATH\"");
	cfg.env = {"HOME=/home/x", "PATH=/bin:/usr/bin"};
	guest::run_workload(cfg, test_mode(), sink2);
	EXPECT_EQ(sink2.data(vsock::kPortStdout), "/home/x /bin:/usr/bin\n");
}

TEST(Workload, OutputLimitCountsAndDrops) {
	FakeSink sink;
	auto cfg = shell("head -c 100000 /dev/zero");
	cfg.max_output_bytes = 10;
	auto rec = guest::run_workload(cfg, test_mode(), sink);
	EXPECT_EQ(sink.data(vsock::kPortStdout).size(), 10u);
	EXPECT_EQ(rec.stdout_bytes, 100000u);
	EXPECT_TRUE(rec.stdout_truncated);
	EXPECT_FALSE(rec.stderr_truncated);
}

// The first line must reach the sink while the workload still waits for
// the test to answer it: a runner that buffered to the end would see the
// workload time out (124) with the second line missing.
TEST(Workload, StreamsWhileRunning) {
	TempDir dir("guest-test");
	std::string fifo = dir.path() + "/fifo";
	ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
	FakeSink sink;
	sink.on_send = [&](uint32_t port, const std::string& so_far) {
		if (port != vsock::kPortStdout || so_far != "first\n") return;
		bencher::UniqueFd w(open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
		bencher::write_all(w.get(), "second\n", "fifo");
	};
	auto rec = guest::run_workload(shell("echo first; exec timeout 5 cat " + fifo), test_mode(), sink);
	EXPECT_EQ(rec.exit_code, 0);
	EXPECT_EQ(sink.data(vsock::kPortStdout), "first\nsecond\n");
}

TEST(Workload, JoinsItsCgroupBeforeExec) {
	TempDir root("guest-cgroup");
	// A tree that looks like cgroup2 once the kernel made the new cgroup.
	touch(root.path() + "/cgroup.subtree_control");
	ASSERT_EQ(mkdir((root.path() + "/bench").c_str(), 0755), 0);
	ASSERT_EQ(mkdir((root.path() + "/bench/run").c_str(), 0755), 0);
	touch(root.path() + "/bench/run/cgroup.procs");
	FakeSink sink;
	auto cfg = shell("echo $$");
	cfg.cgroup = "bench/run";
	auto s = test_mode();
	s.cgroup_root = root.path();
	auto rec = guest::run_workload(cfg, s, sink);
	EXPECT_EQ(rec.exit_code, 0);
	// sh's $$ is the pid that wrote itself there: the same process, before
	// it became sh.
	EXPECT_EQ(slurp(root.path() + "/bench/run/cgroup.procs") + "\n", sink.data(vsock::kPortStdout));
	EXPECT_EQ(slurp(root.path() + "/cgroup.subtree_control"), "+cpuset");

	FakeSink sink2;
	s.cgroup_root = root.path() + "/missing";
	rec = guest::run_workload(cfg, s, sink2);
	EXPECT_EQ(rec.exit_code, guest::kSetupFailed);
	EXPECT_NE(rec.error.find("cgroup " + root.path() + "/missing/bench"), std::string::npos) << rec.error;
}

TEST(Workload, ForwardsSigtermToTheWorkload) {
	FakeSink sink;
	sink.on_send = [](uint32_t port, const std::string& so_far) {
		if (port == vsock::kPortStdout && so_far == "ready\n") kill(getpid(), SIGTERM);
	};
	auto rec = guest::run_workload(shell("echo ready; sleep 10"), test_mode(), sink);
	EXPECT_EQ(rec.signal, SIGTERM);
	EXPECT_EQ(rec.exit_code, 128 + SIGTERM);
}

// What the workload leaves running is killed once it exits; as a subreaper
// this test inherits the orphan and sees how it died.
TEST(Workload, KillsWhatTheWorkloadLeftBehind) {
	ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	FakeSink sink;
	auto rec = guest::run_workload(shell("sleep 100 >/dev/null 2>&1 & echo $!"), test_mode(), sink);
	EXPECT_EQ(rec.exit_code, 0);
	pid_t orphan = static_cast<pid_t>(std::stol(sink.data(vsock::kPortStdout)));
	int st = 0;
	pid_t r = 0;
	for (int i = 0; i < 500 && r == 0; i++) {
		r = waitpid(orphan, &st, WNOHANG);
		if (r == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	// Either this test reaps it now, or init's sweep already did.
	bool killed = (r > 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) || (r < 0 && errno == ECHILD);
	if (r == 0) {
		kill(orphan, SIGKILL);
		waitpid(orphan, nullptr, 0);
	}
	EXPECT_TRUE(killed);
}

TEST(Workload, ControlFdIsPassedInTestMode) {
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	bencher::UniqueFd r(p[0]), w(p[1]);
	FakeSink sink;
	auto s = test_mode();
	s.control_fd = w.get();
	guest::run_workload(shell("test -e /proc/self/fd/$BENCHER_TEST_CONTROL_FD && echo $BENCHER_TEST_CONTROL_FD"), s,
			    sink);
	EXPECT_EQ(sink.data(vsock::kPortStdout), std::to_string(w.get()) + "\n");
}

// After the workload: its streams end, then files, exit record, HMAC.
TEST(RunAndReport, ResultsInProtocolOrder) {
	FakeSink sink;
	guest::run_and_report(shell("echo hi; exit 7"), test_mode(), sink);
	std::vector<std::string> want = {"send 5000", "close 5000", "close 5001", "send 5005",
					 "close 5005", "send 5002", "close 5002", "finish"};
	EXPECT_EQ(sink.events(), want);
	auto rec = results::parse_exit(sink.data(vsock::kPortExitCode));
	EXPECT_EQ(rec.exit_code, 7);
	EXPECT_EQ(rec.stdout_bytes, 3u);
}
