// Unit tests for lib/common/error, log and cli: the message format every
// program prints, exit codes, and the shared options.
#include <gtest/gtest.h>

#include <cerrno>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/log.hh"

using namespace bencher;

namespace {

struct Argv {
	explicit Argv(std::initializer_list<const char*> args) {
		for (const char* a : args) store.emplace_back(a);
		for (auto& s : store) ptrs.push_back(s.data());
		ptrs.push_back(nullptr);
	}
	int argc() const { return static_cast<int>(ptrs.size()) - 1; }
	char** argv() { return ptrs.data(); }
	std::vector<std::string> store;
	std::vector<char*> ptrs;
};

}  // namespace

TEST(Error, RunMainReportsOnceWithProgramName) {
	testing::internal::CaptureStderr();
	int rc = run_main("mkrootfs", [] () -> int { fail_errno("open /x", ENOENT, 3); });
	std::string err = testing::internal::GetCapturedStderr();
	EXPECT_EQ(rc, 3);
	EXPECT_EQ(err, "mkrootfs: open /x: No such file or directory\n");
}

TEST(Error, UsageExitCode) {
	testing::internal::CaptureStderr();
	int rc = run_main("tool", [] () -> int { fail_usage("--size: missing value"); });
	EXPECT_EQ(testing::internal::GetCapturedStderr(), "tool: --size: missing value (try --help)\n");
	EXPECT_EQ(rc, kExitUsage);
}

TEST(Error, Strprintf) {
	EXPECT_EQ(strprintf("%s=%d", "a", 5), "a=5");
	EXPECT_EQ(strprintf("%s", std::string(10000, 'x').c_str()).size(), 10000u);
}

TEST(Log, LevelsAndEnvironment) {
	EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
	EXPECT_EQ(log::parse_level("warning"), log::Level::warn);
	EXPECT_THROW(log::parse_level("loud"), Error);
	setenv("BENCHER_LOG_LEVEL", "info", 1);
	log::init_from_env();
	EXPECT_EQ(log::level(), log::Level::info);
	setenv("BENCHER_LOG_LEVEL", "bogus", 1);
	testing::internal::CaptureStderr();
	log::init_from_env();
	EXPECT_NE(testing::internal::GetCapturedStderr().find("BENCHER_LOG_LEVEL=bogus"), std::string::npos);
	EXPECT_EQ(log::level(), log::Level::info);
	unsetenv("BENCHER_LOG_LEVEL");
	log::set_level(log::Level::warn);
}

TEST(Log, FormatAndFiltering) {
	set_program_name("tool");
	log::set_level(log::Level::warn);
	testing::internal::CaptureStderr();
	BLOG_INFO("hidden %d", 1);
	BLOG_WARN("shown %d", 2);
	BLOG_ERROR("bad");
	EXPECT_EQ(testing::internal::GetCapturedStderr(), "tool: warning: shown 2\ntool: bad\n");
}

TEST(Cli, OptionsOperandsAndDoubleDash) {
	std::string out;
	bool insecure = false;
	cli::Parser p({"tool", "Usage: tool\n"});
	p.value("output", 'o', [&](const std::string& v) { out = v; }).flag("insecure", 0, [&] { insecure = true; });
	Argv a{"tool", "-o", "x.tar", "--insecure", "--", "cmd", "--flag"};
	auto ops = p.parse(a.argc(), a.argv());
	EXPECT_EQ(out, "x.tar");
	EXPECT_TRUE(insecure);
	EXPECT_EQ(ops, (std::vector<std::string>{"cmd", "--flag"}));
}

TEST(Cli, StopsAtFirstOperand) {
	cli::Parser p({"tool", "Usage: tool\n"});
	bool v = false;
	p.flag("verbose", 'v', [&] { v = true; });
	Argv a{"tool", "image", "-v"};
	auto ops = p.parse(a.argc(), a.argv());
	EXPECT_FALSE(v);
	EXPECT_EQ(ops, (std::vector<std::string>{"image", "-v"}));
}

TEST(Cli, OptionsAnywhereReadsOptionsAfterOperandsUntilDoubleDash) {
	cli::Parser p({"tool", "Usage: tool\n"});
	bool v = false;
	std::string out;
	p.options_anywhere().flag("verbose", 'v', [&] { v = true; }).value("output", 'o', [&](const std::string& x) { out = x; });
	Argv a{"tool", "image", "-v", "--output", "f", "--", "--not-an-option"};
	auto ops = p.parse(a.argc(), a.argv());
	EXPECT_TRUE(v);
	EXPECT_EQ(out, "f");
	EXPECT_EQ(ops, (std::vector<std::string>{"image", "--not-an-option"}));
	// A parser that stops at the first operand still does, after this one.
	cli::Parser q({"tool", "Usage: tool\n"});
	bool w = false;
	q.flag("verbose", 'v', [&] { w = true; });
	Argv b{"tool", "image", "-v"};
	EXPECT_EQ(q.parse(b.argc(), b.argv()), (std::vector<std::string>{"image", "-v"}));
	EXPECT_FALSE(w);
}

TEST(Cli, Errors) {
	cli::Parser p({"tool", "Usage: tool\n"});
	p.value("size", 's', [](const std::string&) {});
	Argv unknown{"tool", "--bogus"};
	try {
		p.parse(unknown.argc(), unknown.argv());
		FAIL();
	} catch (const Error& e) {
		EXPECT_STREQ(e.what(), "--bogus: unknown option (try --help)");
		EXPECT_EQ(e.exit_code(), kExitUsage);
	}
	Argv missing{"tool", "--size"};
	EXPECT_THROW(p.parse(missing.argc(), missing.argv()), Error);
	Argv short_missing{"tool", "-s"};
	try {
		p.parse(short_missing.argc(), short_missing.argv());
		FAIL();
	} catch (const Error& e) {
		EXPECT_STREQ(e.what(), "-s: missing value (try --help)");
	}
	Argv bad_level{"tool", "--log-level", "shout"};
	EXPECT_THROW(p.parse(bad_level.argc(), bad_level.argv()), Error);
}

TEST(Cli, HelpAndVersionExitZero) {
	cli::Parser p({"tool", "Usage: tool [options]\n"});
	Argv help{"tool", "--help"};
	testing::internal::CaptureStdout();
	try {
		p.parse(help.argc(), help.argv());
		FAIL();
	} catch (const ExitRequest& e) {
		EXPECT_EQ(e.code, 0);
	}
	EXPECT_EQ(testing::internal::GetCapturedStdout(), "Usage: tool [options]\n");
	Argv version{"tool", "--version"};
	testing::internal::CaptureStdout();
	EXPECT_THROW(p.parse(version.argc(), version.argv()), ExitRequest);
	EXPECT_EQ(testing::internal::GetCapturedStdout(), cli::version_line("tool") + "\n");
}
