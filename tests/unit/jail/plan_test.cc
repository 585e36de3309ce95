// Unit tests for lib/jail/plan: the seed's JSON config, the command-line
// forms, and hostile configs that must be refused with the field named.
#include "jail/plan.hh"

#include <gtest/gtest.h>

#include <string>

#include "common/error.hh"
#include "common/json.hh"
#include "../common/error_of.hh"

using bencher::Error;
using bencher::test::error_of;
namespace jail = bencher::jail;
namespace json = bencher::json;

namespace {

jail::Plan from_json(const std::string& text) {
	jail::Plan p;
	jail::apply_json(p, json::parse(text, "jail.json", {1 << 20, 32}), "jail.json");
	return p;
}

jail::Plan valid(const std::string& text) {
	jail::Plan p = from_json(text);
	jail::validate(p);
	return p;
}

std::string json_error(const std::string& text) {
	return error_of([&] { valid(text); });
}

const char kSeed[] = R"({
  "id": "benchmark-123",
  "exec_path": "/usr/lib/bencher/vmm",
  "exec_args": ["--kernel", "/kernel", "--rootfs", "/rootfs.squashfs"],
  "jail_root": "/var/lib/bencher/jails/benchmark-123",
  "uid": 65534,
  "gid": 65534,
  "limits": {
    "cpu_quota_us": 100000,
    "cpu_period_us": 100000,
    "memory_bytes": 536870912,
    "max_fds": 1024,
    "max_procs": 64
  },
  "namespaces": {
    "user": true, "pid": true, "mount": true, "network": true, "uts": true, "ipc": true, "cgroup": true
  },
  "bind_mounts": [
    { "source": "/path/to/kernel", "dest": "/kernel", "read_only": true }
  ],
  "workdir": "/",
  "env": [ ["RUST_BACKTRACE", "1"] ]
})";

}  // namespace

TEST(Plan, SeedConfig) {
	jail::Plan p = valid(kSeed);
	EXPECT_EQ(p.id, "benchmark-123");
	EXPECT_EQ(p.exec_path, "/usr/lib/bencher/vmm");
	EXPECT_EQ(p.exec_args.size(), 4u);
	EXPECT_EQ(p.jail_root, "/var/lib/bencher/jails/benchmark-123");
	EXPECT_EQ(p.uid, 65534u);
	EXPECT_EQ(*p.limits.cpu_quota_us, 100000u);
	EXPECT_EQ(*p.limits.memory_bytes, 536870912u);
	EXPECT_EQ(p.limits.max_procs, 64u);
	ASSERT_EQ(p.bind_mounts.size(), 1u);
	EXPECT_TRUE(p.bind_mounts[0].read_only);
	EXPECT_EQ(p.bind_mounts[0].dest, "/kernel");
	ASSERT_EQ(p.env.size(), 1u);
	EXPECT_EQ(p.env[0].first, "RUST_BACKTRACE");
	EXPECT_EQ(p.hostname, "benchmark-123");
	EXPECT_TRUE(p.namespaces.network);
}

TEST(Plan, Extensions) {
	jail::Plan p = valid(R"({"exec_path":"/x","env":{"A":"1","B":"2"},"keep_fds":[3],
		"fds":[{"path":"/dev/kvm","fd":4},{"path":"/tmp/o","fd":5,"read_write":true}],
		"limits":{"pids_max":10,"max_file_bytes":4096},"hostname":"h","parent_cgroup":"/p",
		"stats_out":"/tmp/s.json","cgroup":true})");
	EXPECT_EQ(p.env.size(), 2u);
	EXPECT_EQ(p.keep_fds, std::vector<int>{3});
	ASSERT_EQ(p.fds.size(), 2u);
	EXPECT_TRUE(p.fds[1].read_write);
	EXPECT_EQ(*p.limits.pids_max, 10u);
	EXPECT_EQ(p.hostname, "h");
	EXPECT_EQ(p.parent_cgroup, "/p");
	EXPECT_FALSE(p.id.empty());  // defaulted
}

TEST(Plan, UnknownKeys) {
	EXPECT_EQ(json_error(R"({"exec_path":"/x","exec_pth":"/y"})"), "jail.json: exec_pth: unknown key");
	EXPECT_EQ(json_error(R"({"exec_path":"/x","limits":{"memroy_bytes":1}})"),
		  "jail.json: limits.memroy_bytes: unknown key");
	EXPECT_EQ(json_error(R"({"exec_path":"/x","namespaces":{"time":true}})"), "jail.json: namespaces.time: unknown key");
	EXPECT_EQ(json_error(R"({"exec_path":"/x","bind_mounts":[{"source":"/a","dest":"/b","ro":true}]})"),
		  "jail.json: bind_mounts[0].ro: unknown key");
}

TEST(Plan, WrongTypes) {
	EXPECT_EQ(json_error(R"({"exec_path":"/x","uid":"0"})"), "jail.json: uid: expected an integer, got a string");
	EXPECT_EQ(json_error(R"({"exec_path":"/x","namespaces":{"user":"yes"}})"),
		  "jail.json: namespaces.user: expected a boolean, got a string");
	EXPECT_NE(json_error(R"({"exec_path":"/x","bind_mounts":{"source":"/a"}})").find("bind_mounts"),
		  std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","env":[["A"]]})").find("env[0]"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","env":[["A",1]]})").find("expected a string"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","env":"A=1"})").find("env"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","exec_args":["a",null]})").find("exec_args[1]"), std::string::npos);
	EXPECT_NE(json_error(R"([1,2])").find("jail.json"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","limits":{"memory_bytes":1.5e9}})").find("limits.memory_bytes"),
		  std::string::npos);
}

TEST(Plan, RangesAndValues) {
	EXPECT_NE(json_error(R"({"exec_path":"/x","uid":-1})").find("uid"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","uid":4294967295})").find("uid"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","limits":{"memory_bytes":4096}})").find("memory_bytes"),
		  std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","limits":{"cpu_period_us":10}})").find("cpu_period_us"),
		  std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","limits":{"max_fds":2}})").find("max_fds"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","fds":[{"path":"/a","fd":1024}]})").find("fd 1024"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","fds":[{"path":"/a","fd":-1}]})").find("fd"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","fds":[{"path":"/a","fd":3}],"keep_fds":[3]})").find("passed twice"),
		  std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","env":[["A=B","1"]]})").find("not a valid variable name"),
		  std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","env":[["","1"]]})").find("not a valid variable name"),
		  std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","workdir":"tmp"})").find("absolute"), std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","jail_root":"/"})").find("jail_root"), std::string::npos);
	EXPECT_EQ(json_error(R"({"exec_path":"/x","cgroup":false,"limits":{"pids_max":5}})"),
		  "cpu, memory and pids limits need a cgroup: drop --no-cgroup");
	EXPECT_NE(json_error(R"({})").find("no program"), std::string::npos);
}

TEST(Plan, HostileIds) {
	for (const char* id : {"../../etc", "a/b", ".hidden", "-x", "", "with space", "tab\t", "ünï"}) {
		std::string doc = std::string(R"({"exec_path":"/x","id":)") + json::dump(json::Value::string(id)) + "}";
		jail::Plan p = from_json(doc);
		if (std::string(id).empty()) continue;  // empty means "default"
		EXPECT_NE(error_of([&] { jail::validate(p); }).find("id "), std::string::npos) << id;
	}
	EXPECT_FALSE(jail::valid_id(std::string(65, 'a')));
	EXPECT_TRUE(jail::valid_id("bench-1.run_2"));
}

TEST(Plan, BindDestinations) {
	auto dest_error = [](const char* dest) {
		return json_error(std::string(R"({"exec_path":"/x","bind_mounts":[{"source":"/a","dest":")") + dest +
				  "\"}]}");
	};
	EXPECT_NE(dest_error("relative").find("absolute"), std::string::npos);
	EXPECT_NE(dest_error("/a/../../etc").find(".."), std::string::npos);
	EXPECT_NE(dest_error("/").find("reserved"), std::string::npos);
	EXPECT_NE(dest_error("/proc/sys").find("reserved"), std::string::npos);
	EXPECT_NE(dest_error("/dev").find("reserved"), std::string::npos);
	EXPECT_NE(dest_error("//dev/").find("reserved"), std::string::npos);
	EXPECT_EQ(dest_error("/devices"), "(no error)");
	EXPECT_NE(json_error(R"({"exec_path":"/x","bind_mounts":[{"source":"/a","dest":"/k"},{"source":"/b","dest":"/k/"}]})")
			  .find("given twice"),
		  std::string::npos);
	jail::Plan p = valid(R"({"exec_path":"/x","bind_mounts":[{"source":"/a","dest":"//data/./x/"}]})");
	EXPECT_EQ(p.bind_mounts[0].dest, "/data/x");
}

TEST(Plan, NamespacesTheJailNeeds) {
	EXPECT_NE(json_error(R"({"exec_path":"/x","namespaces":{"mount":false}})").find("namespaces.mount"),
		  std::string::npos);
	EXPECT_NE(json_error(R"({"exec_path":"/x","namespaces":{"pid":false}})").find("namespaces.pid"),
		  std::string::npos);
	jail::Plan p = valid(R"({"exec_path":"/x","namespaces":{"network":false,"uts":false}})");
	EXPECT_FALSE(p.namespaces.network);
	EXPECT_TRUE(p.namespaces.ipc);
}

TEST(Plan, HostileDocuments) {
	// Nesting beyond the loader's depth limit, huge lists, huge numbers.
	std::string deep = R"({"exec_path":"/x","env":)" + std::string(100, '[') + std::string(100, ']') + "}";
	EXPECT_THROW(valid(deep), Error);
	std::string many = R"({"exec_path":"/x","exec_args":[)";
	for (int i = 0; i < 5000; i++) many += (i ? ",\"a\"" : "\"a\"");
	many += "]}";
	EXPECT_NE(json_error(many).find("more than"), std::string::npos);
	EXPECT_THROW(valid(R"({"exec_path":"/x","uid":1e400})"), Error);
	EXPECT_THROW(valid(R"({"exec_path":"/x","uid":99999999999999999999999})"), Error);
	EXPECT_THROW(valid(std::string(R"({"exec_path":"/x\u0000y"})")), Error);
	EXPECT_THROW(valid(R"({"exec_path":"/x","exec_path":"/y"})"), Error);
	EXPECT_NE(json_error(R"({"exec_path":")" + std::string(5000, 'a') + "\"}").find("too long"), std::string::npos);
}

TEST(Plan, CommandLineForms) {
	auto b = jail::parse_bind("/a:/b:ro");
	EXPECT_EQ(b.source, "/a");
	EXPECT_EQ(b.dest, "/b");
	EXPECT_TRUE(b.read_only);
	EXPECT_FALSE(jail::parse_bind("/a:/b").read_only);
	EXPECT_FALSE(jail::parse_bind("/a:/b:rw").read_only);
	for (const char* bad : {"/a", ":/b", "/a:", "/a:/b:/c", "/a:/b:xx"})
		EXPECT_THROW(jail::parse_bind(bad), Error) << bad;

	auto f = jail::parse_fd_spec("/dev/kvm:3");
	EXPECT_EQ(f.path, "/dev/kvm");
	EXPECT_EQ(f.fd, 3);
	EXPECT_FALSE(f.read_write);
	auto g = jail::parse_fd_spec("/tmp/a:b:5:rw");
	EXPECT_EQ(g.path, "/tmp/a:b");
	EXPECT_EQ(g.fd, 5);
	EXPECT_TRUE(g.read_write);
	for (const char* bad : {"/dev/kvm", "/dev/kvm:", "/dev/kvm:x", "/dev/kvm:-1", ":3", "/a:99999999"})
		EXPECT_THROW(jail::parse_fd_spec(bad), Error) << bad;

	EXPECT_EQ(jail::parse_cpu("0.5"), 50000u);
	EXPECT_EQ(jail::parse_cpu("2"), 200000u);
	for (const char* bad : {"", "0", "-1", "nan", "inf", "1x", "0.001", "5000"})
		EXPECT_THROW(jail::parse_cpu(bad), Error) << bad;

	EXPECT_EQ(jail::parse_env("A=b=c").second, "b=c");
	EXPECT_THROW(jail::parse_env("=x"), Error);
	EXPECT_THROW(jail::parse_env("A"), Error);
}
