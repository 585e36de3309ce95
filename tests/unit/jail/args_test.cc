// Unit tests for lib/jail/args: bencher-jailer's command line into a Plan,
// options over the --config file in the order given, and usage errors.
#include "jail/args.hh"

#include <fcntl.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hh"
#include "common/fd.hh"

namespace jail = bencher::jail;

namespace {

jail::Plan parse(std::vector<std::string> args) {
	args.insert(args.begin(), "bencher-jailer");
	std::vector<char*> argv;
	for (auto& a : args) argv.push_back(a.data());
	argv.push_back(nullptr);
	return jail::plan_from_args(static_cast<int>(args.size()), argv.data());
}

// The usage error's message, or "" when there is none.
std::string usage_error(std::vector<std::string> args) {
	try {
		parse(std::move(args));
	} catch (const bencher::Error& e) {
		EXPECT_EQ(e.exit_code(), bencher::kExitUsage) << e.what();
		return e.what();
	}
	return "";
}

}  // namespace

TEST(Args, OptionsIntoThePlan) {
	jail::Plan p = parse({"--id", "j1", "--memory", "512M", "--cpu", "0.5", "--pids", "16", "--uid", "1000",
			      "--bind", "/srv:/data:ro", "--fd", "/dev/null:5:rw", "--keep-fd", "3", "--env", "A=b",
			      "--share", "net", "--no-cgroup", "--max-file-size", "1K", "--exec", "/bin/true", "--", "x", "y"});
	EXPECT_EQ(p.id, "j1");
	EXPECT_EQ(p.limits.memory_bytes, 512u << 20);
	EXPECT_EQ(p.limits.cpu_quota_us, 50000u);
	EXPECT_EQ(p.limits.pids_max, 16u);
	EXPECT_EQ(p.uid, 1000u);
	ASSERT_EQ(p.bind_mounts.size(), 1u);
	EXPECT_TRUE(p.bind_mounts[0].read_only);
	ASSERT_EQ(p.fds.size(), 1u);
	EXPECT_EQ(p.fds[0].fd, 5);
	EXPECT_EQ(p.keep_fds, std::vector<int>{3});
	EXPECT_EQ(p.env, (std::vector<std::pair<std::string, std::string>>{{"A", "b"}}));
	EXPECT_FALSE(p.namespaces.network);
	EXPECT_TRUE(p.namespaces.uts);
	EXPECT_FALSE(p.use_cgroup);
	EXPECT_EQ(p.limits.max_file_bytes, 1024u);
	EXPECT_EQ(p.exec_path, "/bin/true");
	EXPECT_EQ(p.exec_args, (std::vector<std::string>{"x", "y"}));
}

TEST(Args, OptionsOverrideTheConfig) {
	bencher::TempDir dir("jail-args");
	std::string cfg = dir.path() + "/jail.json";
	{
		bencher::UniqueFd fd(open(cfg.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
		bencher::write_all(fd.get(), R"({"id": "from-config", "uid": 7, "exec_path": "/bin/false"})", "config");
	}
	jail::Plan p = parse({"--id", "from-cli", "--config", cfg});
	EXPECT_EQ(p.id, "from-cli");  // wherever --config stands
	EXPECT_EQ(p.uid, 7u);
	EXPECT_EQ(p.exec_path, "/bin/false");
}

TEST(Args, CommandFromPath) {
	jail::Plan p = parse({"--", "sh", "-c", "true"});
	EXPECT_EQ(p.exec_path.substr(p.exec_path.rfind('/')), "/sh");
	EXPECT_EQ(p.exec_args, (std::vector<std::string>{"-c", "true"}));
}

TEST(Args, UsageErrors) {
	EXPECT_EQ(usage_error({}), "no program to run: give --exec PATH or a command (see --help) (try --help)");
	EXPECT_NE(usage_error({"--pids", "0", "--", "true"}).find("--pids"), std::string::npos);
	EXPECT_NE(usage_error({"--memory", "lots", "--", "true"}).find("--memory"), std::string::npos);
	EXPECT_EQ(usage_error({"--share", "pid", "--", "true"}), "--share pid: expected user, network, uts, ipc or cgroup (try --help)");
	EXPECT_EQ(usage_error({"--bind", "/a", "--", "true"}), "--bind /a: expected SRC:DEST[:ro] (try --help)");
}
