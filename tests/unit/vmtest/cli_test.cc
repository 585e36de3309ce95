// Unit tests for lib/vmtest/cli: vmtest's command line (which options go
// together), the targets it makes, and the exit status of a run.
#include "vmtest/cli.hh"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/error.hh"
#include "common/fd.hh"
#include "../common/error_of.hh"

using bencher::test::error_of;
using namespace bencher::vmtest;

namespace {

Options parse(std::vector<std::string> args) {
	args.insert(args.begin(), "bencher-vmtest");
	std::vector<char*> argv;
	for (std::string& a : args) argv.push_back(a.data());
	argv.push_back(nullptr);
	return parse_args(static_cast<int>(args.size()), argv.data());
}

std::string usage(std::vector<std::string> args) { return error_of([&] { parse(args); }); }

}  // namespace

TEST(VmtestCli, OneLiner) {
	Options o = parse({"-k", "boot/bzImage", "--kargs", "quiet", "-r", "root", "--", "make", "-C", "dir", "test"});
	EXPECT_TRUE(o.one_liner());
	Config c = targets_of(o, "/work");
	ASSERT_EQ(1u, c.targets.size());
	const Target& t = c.targets[0];
	EXPECT_EQ("bzImage", t.name);  // vmtest names it after the kernel file
	EXPECT_EQ("/work/boot/bzImage", t.kernel);
	EXPECT_EQ("quiet", t.kernel_args);
	EXPECT_EQ("/work/root", t.rootfs);
	EXPECT_EQ("make -C dir test", t.command);  // joined by spaces, as vmtest does
	EXPECT_EQ("/work", c.dir);
	EXPECT_EQ("/", targets_of(parse({"-k", "/k", "true"}), "/w").targets[0].rootfs);
	// vmtest ignores -f with -k.
	EXPECT_EQ(1u, targets_of(parse({"-k", "/k", "-f", "nomatch", "true"}), "/w").targets.size());
}

TEST(VmtestCli, UsageErrors) {
	EXPECT_EQ("-k: no COMMAND given (try --help)", usage({"-k", "/k"}));
	EXPECT_EQ("-k and -c exclude each other (try --help)", usage({"-k", "/k", "-c", "x.toml", "true"}));
	EXPECT_EQ("--kargs needs -k (try --help)", usage({"--kargs", "x"}));
	EXPECT_EQ("-r needs -k (try --help)", usage({"-r", "/"}));
	EXPECT_EQ("a COMMAND needs -k (targets of a config file have their own) (try --help)", usage({"true"}));
	EXPECT_EQ("--check-kernel takes no other target (try --help)", usage({"--check-kernel", "/k", "-k", "/k", "x"}));
	EXPECT_EQ("--format: expected text, tap or junit, got 'json' (try --help)", usage({"--format", "json"}));
	EXPECT_EQ("--bogus: unknown option (try --help)", usage({"--bogus"}));
}

TEST(VmtestCli, ConfigFileAndFilter) {
	bencher::TempDir dir("vmtest-cli");
	std::string toml =
	    "[[target]]\nname = \"alpha one\"\nkernel = \"k\"\ncommand = \"true\"\n"
	    "[[target]]\nname = \"beta\"\nkernel = \"/k\"\ncommand = \"false\"\n";
	bencher::write_all(bencher::open_file(dir.path() + "/vmtest.toml", O_WRONLY | O_CREAT, 0644).get(), toml, "toml");
	Config all = targets_of(parse({}), dir.path());
	ASSERT_EQ(2u, all.targets.size());
	EXPECT_EQ(dir.path() + "/k", all.targets[0].kernel);
	Config some = targets_of(parse({"-c", dir.path() + "/vmtest.toml", "-f", "^al.*e$"}), "/");
	ASSERT_EQ(1u, some.targets.size());
	EXPECT_EQ("alpha one", some.targets[0].name);
	EXPECT_EQ(0u, targets_of(parse({"-f", "gamma"}), dir.path()).targets.size());
	EXPECT_EQ(0u, error_of([&] { targets_of(parse({"-f", "("}), dir.path()); }).find("-f: '(': not a regular expression"));
	EXPECT_EQ("/nonexistent/vmtest.toml: No such file or directory",
		  error_of([] { targets_of(parse({}), "/nonexistent"); }));
}

TEST(VmtestCli, ExitStatus) {
	TargetResult pass, fail3, fail69;
	pass.passed = true;
	fail3.exit_code = 3;
	fail69.exit_code = 69;
	Options one = parse({"-k", "/k", "x"});
	Options file = parse({});
	EXPECT_EQ(0, exit_status(one, {pass}, 0));
	EXPECT_EQ(3, exit_status(one, {fail3}, 0));
	EXPECT_EQ(69, exit_status(one, {fail69}, 0));
	EXPECT_EQ(2, exit_status(file, {pass, fail3, fail69}, 0));
	EXPECT_EQ(0, exit_status(file, {}, 0));
	EXPECT_EQ(127, exit_status(file, std::vector<TargetResult>(300, fail3), 0));
	EXPECT_EQ(130, exit_status(one, {pass}, 2));
}
