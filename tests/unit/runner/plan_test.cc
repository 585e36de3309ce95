// Unit tests for lib/runner/plan, case by case against Docker's documented
// rules (docker run reference; Dockerfile reference, "Understand how CMD and
// ENTRYPOINT interact"), as the image config reaches us from oci-unpack, and
// hostile summaries that must be refused, never trusted.
#include "runner/plan.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hh"
#include "common/json.hh"

using bencher::Error;
using namespace bencher::runner;
namespace json = bencher::json;
using Strings = std::vector<std::string>;

namespace {

const char kDigest[] = R"("image_digest": "sha256:1111", "config_digest": "sha256:2222")";

ImageConfig image(const std::string& fields) {
	return parse_image_config("{" + fields + (fields.empty() ? "" : ", ") + kDigest + "}", "image.json");
}

Options opts() {
	Options o;
	o.image = "img:t";
	return o;
}

Strings argv_of(const std::string& fields, const Options& o = opts()) { return plan_run(image(fields), o).argv; }

std::string refused(const std::string& text) {
	try {
		parse_image_config(text, "image.json");
	} catch (const Error& e) {
		return e.what();
	}
	return "(accepted)";
}

}  // namespace

// The Dockerfile reference's table: rows are Entrypoint forms, columns Cmd.
TEST(RunnerPlan, ExecEntrypointPlusExecCmd) {
	EXPECT_EQ((Strings{"/bin/ep", "a1", "a2"}), argv_of(R"("entrypoint": ["/bin/ep"], "cmd": ["a1", "a2"])"));
}

TEST(RunnerPlan, NoEntrypointExecCmd) { EXPECT_EQ((Strings{"echo", "hi"}), argv_of(R"("cmd": ["echo", "hi"])")); }

TEST(RunnerPlan, NoEntrypointShellFormCmd) {
	// CMD echo $HOME is stored as ["/bin/sh", "-c", "echo $HOME"].
	EXPECT_EQ((Strings{"/bin/sh", "-c", "echo $HOME"}), argv_of(R"("cmd": ["/bin/sh", "-c", "echo $HOME"])"));
}

TEST(RunnerPlan, ExecEntrypointNoCmd) {
	EXPECT_EQ((Strings{"echo", "only"}), argv_of(R"("entrypoint": ["echo", "only"], "cmd": null)"));
}

TEST(RunnerPlan, ShellFormEntrypointIgnoresCmdInTheShell) {
	// ENTRYPOINT echo x stores ["/bin/sh", "-c", "echo x"]; the Cmd becomes
	// $0 of that shell, so it never reaches the command: the table's row.
	EXPECT_EQ((Strings{"/bin/sh", "-c", "echo x", "ignored"}),
		  argv_of(R"("entrypoint": ["/bin/sh", "-c", "echo x"], "cmd": ["ignored"])"));
}

TEST(RunnerPlan, ExecEntrypointShellFormCmd) {
	EXPECT_EQ((Strings{"/ep", "/bin/sh", "-c", "exec_cmd"}),
		  argv_of(R"("entrypoint": ["/ep"], "cmd": ["/bin/sh", "-c", "exec_cmd"])"));
}

TEST(RunnerPlan, CliEntrypointClearsTheImagesCmd) {
	Options o = opts();
	o.entrypoint = "/bin/true";
	EXPECT_EQ((Strings{"/bin/true"}), argv_of(R"("entrypoint": ["/ep"], "cmd": ["image-cmd"])", o));
	o.cmd = Strings{"-c", "echo hi"};
	o.entrypoint = "/bin/sh";
	EXPECT_EQ((Strings{"/bin/sh", "-c", "echo hi"}), argv_of(R"("entrypoint": ["/ep"], "cmd": ["image-cmd"])", o));
}

TEST(RunnerPlan, EmptyCliEntrypointResetsIt) {
	// docker run --entrypoint="" IMAGE CMD: no Entrypoint, and the image's
	// Cmd is still dropped.
	Options o = opts();
	o.entrypoint = "";
	o.cmd = Strings{"sh"};
	EXPECT_EQ((Strings{"sh"}), argv_of(R"("entrypoint": ["/ep"], "cmd": ["image-cmd"])", o));
	o.cmd.reset();
	EXPECT_THROW(argv_of(R"("entrypoint": ["/ep"], "cmd": ["image-cmd"])", o), Error);
}

TEST(RunnerPlan, CliCmdReplacesCmdKeepsEntrypoint) {
	Options o = opts();
	o.cmd = Strings{"x\"y\\z", "line\nnext"};
	EXPECT_EQ((Strings{"/ep", "x\"y\\z", "line\nnext"}), argv_of(R"("entrypoint": ["/ep"], "cmd": ["a"])", o));
}

TEST(RunnerPlan, EmptyAndAbsentFields) {
	// An empty Cmd array runs the Entrypoint alone; an empty Entrypoint
	// array is no Entrypoint.
	EXPECT_EQ((Strings{"/ep"}), argv_of(R"("entrypoint": ["/ep"], "cmd": [])"));
	EXPECT_EQ((Strings{"c"}), argv_of(R"("entrypoint": [], "cmd": ["c"])"));
	ImageConfig bare = image("");
	EXPECT_FALSE(bare.entrypoint);
	EXPECT_FALSE(bare.cmd);
	EXPECT_TRUE(bare.env.empty());
	ImageConfig nulls = image(R"("entrypoint": null, "cmd": null, "env": null, "working_dir": null, "user": null)");
	EXPECT_FALSE(nulls.entrypoint);
	EXPECT_EQ("", nulls.user);
}

TEST(RunnerPlan, NothingToRunIsARunnerError) {
	try {
		plan_run(image(R"("entrypoint": [], "cmd": [])"), opts());
		FAIL() << "planned a run with no command";
	} catch (const Error& e) {
		EXPECT_STREQ("img:t: no command: the image has no Entrypoint or Cmd (use --cmd)", e.what());
		EXPECT_EQ(kExitRunner, e.exit_code());
	}
}

TEST(RunnerPlan, EnvImageFirstCliOverridesAndAdds) {
	Options o = opts();
	o.env = {"OVER=cli", "NEW=2"};
	RunConfig c = plan_run(image(R"("cmd": ["x"], "env": ["PATH=/bin", "KEEP=1", "OVER=image"])"), o);
	EXPECT_EQ((Strings{"PATH=/bin", "KEEP=1", "OVER=cli", "NEW=2"}), c.env);
}

TEST(RunnerPlan, EnvRepeatedOnTheCommandLineTakesTheLastValue) {
	Options o = opts();
	o.env = {"A=1", "B=x", "A=2"};
	EXPECT_EQ((Strings{"A=2", "B=x"}), plan_run(image(R"("cmd": ["x"])"), o).env);
}

TEST(RunnerPlan, EnvEntriesWithoutValuesOrWithEqualsInTheValue) {
	// An image's bare K is still a name the command line can override; the
	// name ends at the first '='.
	Options o = opts();
	o.env = {"BARE=set", "A=b=c"};
	RunConfig c = plan_run(image(R"("cmd": ["x"], "env": ["BARE", "EMPTY=", "A=b", "AB=keep"])"), o);
	EXPECT_EQ((Strings{"EMPTY=", "AB=keep", "BARE=set", "A=b=c"}), c.env);
}

TEST(RunnerPlan, WorkdirCliOverImageOverRoot) {
	const std::string wd = R"("cmd": ["x"], "working_dir": "/srv")";
	EXPECT_EQ("/srv", plan_run(image(wd), opts()).workdir);
	Options o = opts();
	o.workdir = "/tmp";
	EXPECT_EQ("/tmp", plan_run(image(wd), o).workdir);
	EXPECT_EQ("/", plan_run(image(R"("cmd": ["x"], "working_dir": "")"), opts()).workdir);
	EXPECT_EQ("/", plan_run(image(R"("cmd": ["x"])"), opts()).workdir);
	EXPECT_THROW(plan_run(image(R"("cmd": ["x"], "working_dir": "srv")"), opts()), Error);
}

TEST(RunnerPlan, UserFormsPassThroughVerbatim) {
	// name, uid, uid:gid, name:group: the guest resolves them against the
	// image's own /etc/passwd and /etc/group; the plan only chooses.
	for (const char* u : {"bench", "1000", "1234:2345", "bench:staff"}) {
		RunConfig c = plan_run(image(std::string(R"("cmd": ["x"], "user": ")") + u + "\""), opts());
		EXPECT_EQ(u, c.user);
		Options o = opts();
		o.user = u;
		EXPECT_EQ(u, plan_run(image(R"("cmd": ["x"], "user": "other")"), o).user);
	}
	EXPECT_EQ("", plan_run(image(R"("cmd": ["x"])"), opts()).user);
}

TEST(RunnerPlan, RunJsonAsCollectResultsReadsIt) {
	Options o = opts();
	o.outputs = {"/out/a"};
	o.max_output_bytes = 1024;
	RunConfig c = plan_run(image(R"("cmd": ["echo", "\u0001"], "user": "bench")"), o);
	EXPECT_EQ(R"({"argv":["echo","\u0001"],"env":[],"workdir":"/","files":["/out/a"],"max_output_bytes":1024,"user":"bench"})",
		  json::dump(run_json(c)));
	c.user = "";
	EXPECT_EQ(R"({"argv":["echo","\u0001"],"env":[],"workdir":"/","files":["/out/a"],"max_output_bytes":1024})",
		  json::dump(run_json(c)));
	EXPECT_EQ(R"({"run":{"argv":["echo","\u0001"],"env":[],"workdir":"/","files":["/out/a"],"max_output_bytes":1024},"rootfs":"/r","kernel":"/k"})",
		  json::dump(dry_run_json(c, "/r", "/k")));
}

TEST(RunnerPlan, DigestManifestFirstThenConfig) {
	EXPECT_EQ("sha256:1111", image("").digest);
	EXPECT_EQ("sha256:2222",
		  parse_image_config(R"({"image_digest": null, "config_digest": "sha256:2222"})", "i").digest);
	EXPECT_EQ("image.json: no image digest in oci-unpack's config", refused(R"({"cmd": ["x"]})"));
}

TEST(RunnerPlan, HostileSummariesAreRefusedWithTheFieldNamed) {
	EXPECT_EQ("image.json: cmd: expected an array, got a string", refused(R"({"cmd": "echo hi"})"));
	EXPECT_EQ("image.json: cmd[1]: expected a string, got an integer", refused(R"({"cmd": ["a", 1]})"));
	EXPECT_EQ("image.json: env: expected an array, got an object", refused(R"({"env": {"A": "B"}})"));
	EXPECT_EQ("image.json: user: expected a string, got an array", refused(R"({"user": []})"));
	EXPECT_EQ("image.json: expected an object, got an array", refused("[]"));
	EXPECT_NE(std::string::npos, refused(R"({"cmd": ["a"], "cmd": ["b"]})").find("duplicate"));
	EXPECT_NE(std::string::npos, refused(std::string(100, '[') + std::string(100, ']')).find("nested deeper"));
	EXPECT_NE(std::string::npos, refused(R"({"cmd": ["x"])").find("image.json: line 1"));
	std::string huge = R"({"cmd": [")" + std::string(kMaxImageConfigBytes, 'x') + R"("]})";
	EXPECT_NE(std::string::npos, refused(huge).find("larger than"));
	// Unknown keys are oci-unpack's business, not an error.
	EXPECT_EQ("sha256:1", parse_image_config(R"({"image_digest": "sha256:1", "layers": [{"size": 1}]})", "i").digest);
}
