// Unit tests for lib/jail/cgroup's parsers of kernel text and the stats
// document, the probe and both cgroup versions over temporary trees that look
// like each hierarchy, and lib/jail/explain's hints (no host state changed).
#include "jail/cgroup.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/json.hh"
#include "jail/explain.hh"
#include "../common/error_of.hh"

namespace jail = bencher::jail;
namespace json = bencher::json;
using bencher::test::error_of;

TEST(Cgroup, Mountinfo) {
	auto m = jail::parse_mountinfo(
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 master:3 - cgroup cgroup rw,cpu,cpuacct\n"
		"40 31 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
		"41 31 0:36 / /mnt/with\\040space rw - ext4 /dev/sda1 rw\n"
		"garbage line\n"
		"42 31 0:37 / /x rw -\n");
	ASSERT_EQ(m.size(), 4u);
	EXPECT_EQ(m[1].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
	EXPECT_EQ(m[1].fstype, "cgroup");
	EXPECT_EQ(m[1].super_options, (std::vector<std::string>{"rw", "cpu", "cpuacct"}));
	EXPECT_EQ(m[2].fstype, "cgroup2");
	EXPECT_EQ(m[3].mount_point, "/mnt/with space");
}

TEST(Cgroup, ProcSelfCgroup) {
	auto c = jail::parse_proc_cgroup(
		"9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/user.slice\n0::/user.slice/x.scope\n");
	EXPECT_EQ(c["memory"], "/process_api/abc");
	EXPECT_EQ(c["cpu"], "/user.slice");
	EXPECT_EQ(c["cpuacct"], "/user.slice");
	EXPECT_EQ(c[""], "/user.slice/x.scope");
}

TEST(Cgroup, KeyedAndLimits) {
	auto k = jail::parse_keyed("usage_usec 1234\nuser_usec 1000\nnr_throttled 7\nbad -5\nworse x\nnospace\n");
	EXPECT_EQ(k["usage_usec"], 1234u);
	EXPECT_EQ(k["nr_throttled"], 7u);
	EXPECT_EQ(k.count("bad"), 0u);
	EXPECT_EQ(k.count("worse"), 0u);
	EXPECT_EQ(jail::parse_limit("max\n"), std::nullopt);
	EXPECT_EQ(jail::parse_limit("9223372036854771712\n"), std::nullopt);
	EXPECT_EQ(jail::parse_limit("67108864\n"), 67108864u);
	EXPECT_EQ(jail::parse_limit("-1"), std::nullopt);
	EXPECT_EQ(jail::parse_limit("12ab"), std::nullopt);
	EXPECT_EQ(jail::parse_limit(""), std::nullopt);
}

TEST(Cgroup, StatsJsonOmitsUnknown) {
	jail::CgroupStats s;
	s.version = 2;
	s.memory_peak_bytes = 100;
	s.nr_throttled = 0;
	EXPECT_EQ(json::dump(jail::stats_json(s)), R"({"cgroup_version":2,"memory_peak_bytes":100,"nr_throttled":0})");
}

TEST(Explain, UsernsHints) {
	jail::UsernsSysctls s;
	EXPECT_EQ(jail::userns_hint(s, false), "");
	s.apparmor_restrict = "1";
	EXPECT_NE(jail::userns_hint(s, false).find("apparmor_restrict_unprivileged_userns"), std::string::npos);
	EXPECT_NE(jail::userns_hint(s, false).find("userns,"), std::string::npos);
	EXPECT_EQ(jail::userns_hint(s, true), "");  // root is not restricted
	s.unprivileged_clone = "0";
	EXPECT_NE(jail::userns_hint(s, false).find("unprivileged_userns_clone=1"), std::string::npos);
	s.max_user_namespaces = "0";
	EXPECT_NE(jail::userns_hint(s, true).find("max_user_namespaces"), std::string::npos);
	s = {};
	s.chrooted = true;
	EXPECT_NE(jail::userns_hint(s, true).find("chroot"), std::string::npos);
	s = {};
	s.apparmor_restrict = "0";
	EXPECT_EQ(jail::userns_hint(s, false), "");
}

TEST(Explain, KvmHints) {
	EXPECT_NE(jail::open_hint("/dev/kvm", EACCES, false).find("usermod -aG kvm"), std::string::npos);
	EXPECT_EQ(jail::open_hint("/dev/kvm", EACCES, true), "");
	EXPECT_NE(jail::open_hint("/dev/kvm", ENOENT, false).find("kvm_amd"), std::string::npos);
	EXPECT_EQ(jail::open_hint("/tmp/x", EACCES, false), "");
}

namespace {

// A temporary directory standing in for the cgroup mounts. The kernel makes
// a new cgroup's control files; these tests make them by hand (files()).
class FakeCgroupTree {
public:
	FakeCgroupTree() : dir_("jail-cgroup") {}
	std::string path(const std::string& rel) const { return dir_.path() + "/" + rel; }
	void mkdirs(const std::string& rel) const { std::filesystem::create_directories(path(rel)); }
	void put(const std::string& rel, const std::string& text) const {
		bencher::UniqueFd fd(open(path(rel).c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644));
		ASSERT_TRUE(fd) << rel;
		bencher::write_all(fd.get(), text, rel);
	}
	std::string get(const std::string& rel) const { return bencher::read_file(path(rel), 1 << 20); }
	// Empty control files in `rel`, as the kernel would have made them.
	void files(const std::string& rel, std::initializer_list<const char*> names) const {
		for (const char* n : names) put(rel + "/" + n, "");
	}
	// What cgroupfs allows and a plain directory does not: rmdir with the
	// control files in it.
	void clear(const std::string& rel) const {
		std::string cmd = "find '" + path(rel) + "' -type f -delete";
		ASSERT_EQ(system(cmd.c_str()), 0);
	}
	std::string mount_line(const std::string& rel, const std::string& fstype, const std::string& opts) const {
		return "30 20 0:40 / " + path(rel) + " rw - " + fstype + " " + fstype + " " + opts + "\n";
	}
	// A cgroup2 mount at `mount` (plus other mount lines); the jailer's
	// cgroup `own` ("" for the root) offers `controllers`.
	jail::CgroupHost v2_host(const std::string& mount, const std::string& own, const std::string& controllers,
				 const std::string& more_mounts = "") const {
		std::string dir = own.empty() ? mount : mount + "/" + own;
		mkdirs(dir);
		put(dir + "/cgroup.controllers", controllers);
		put(dir + "/cgroup.subtree_control", "");
		jail::CgroupHost host;
		host.mounts = jail::parse_mountinfo(mount_line(mount, "cgroup2", "rw") + more_mounts);
		host.own = jail::parse_proc_cgroup("0::/" + own + "\n");
		return host;
	}

private:
	bencher::TempDir dir_;
};

jail::CgroupLimits limits(uint64_t cpu_quota_us, uint64_t memory_bytes, uint64_t pids_max) {
	jail::CgroupLimits l;
	l.cpu_quota_us = cpu_quota_us;
	l.memory_bytes = memory_bytes;
	l.pids_max = pids_max;
	return l;
}

}  // namespace

TEST(CgroupV2, CreateLimitsAddStatsRemove) {
	FakeCgroupTree t;
	jail::CgroupHost host = t.v2_host("v2", "user.slice", "cpuset cpu io memory pids\n");

	auto cg = jail::make_cgroup(host, "jail-a", "", {"cpu", "memory", "pids"});
	ASSERT_EQ(cg->version(), 2);
	EXPECT_EQ(cg->dirs(), std::vector<std::string>{t.path("v2/user.slice/jail-a")});
	EXPECT_NE(t.get("v2/user.slice/cgroup.subtree_control"), "");  // controllers handed down

	t.files("v2/user.slice/jail-a", {"cgroup.procs", "cpu.max", "memory.max", "memory.swap.max", "pids.max"});
	cg->set_limits(limits(50000, 64 << 20, 16));
	EXPECT_EQ(t.get("v2/user.slice/jail-a/cpu.max"), "50000 100000");
	EXPECT_EQ(t.get("v2/user.slice/jail-a/memory.max"), "67108864");
	EXPECT_EQ(t.get("v2/user.slice/jail-a/memory.swap.max"), "0");
	EXPECT_EQ(t.get("v2/user.slice/jail-a/pids.max"), "16");
	cg->add(4242);
	EXPECT_EQ(t.get("v2/user.slice/jail-a/cgroup.procs"), "4242");

	t.put("v2/user.slice/jail-a/memory.peak", "1000\n");
	t.put("v2/user.slice/jail-a/cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_throttled 2\n");
	t.put("v2/user.slice/jail-a/pids.max", "max\n");
	EXPECT_EQ(bencher::json::dump(jail::stats_json(cg->stats())),
		  R"({"cgroup_version":2,"memory_peak_bytes":1000,"memory_max_bytes":67108864,"cpu_usage_usec":10,)"
		  R"("cpu_user_usec":6,"cpu_system_usec":4,"nr_throttled":2})");

	t.clear("v2/user.slice/jail-a");
	cg->remove();
	EXPECT_NE(access(t.path("v2/user.slice/jail-a").c_str(), F_OK), 0);
	EXPECT_TRUE(cg->dirs().empty());
}

TEST(CgroupV2, ExistingJailAndMissingParent) {
	FakeCgroupTree t;
	jail::CgroupHost host = t.v2_host("v2", "", "cpu memory pids\n");
	t.mkdirs("v2/jail-b");
	EXPECT_EQ(error_of([&] { jail::make_cgroup(host, "jail-b", "", {"memory"}); }),
		  "cgroup: " + t.path("v2/jail-b") +
			  " already exists: another jail with id jail-b runs, or one was killed (rmdir it)");
	EXPECT_EQ(error_of([&] { jail::make_cgroup(host, "jail-c", "/nowhere", {}); }),
		  "cgroup: parent " + t.path("v2/nowhere") + ": No such file or directory");
}

// A hybrid host: an empty v2 tree beside v1 hierarchies, cpu and cpuacct
// sharing one. The jail gets a directory per hierarchy.
TEST(CgroupV1, HybridHostUsesV1) {
	FakeCgroupTree t;
	t.mkdirs("unified/a");
	t.put("unified/a/cgroup.controllers", "");
	t.mkdirs("cpu,cpuacct/a");
	t.mkdirs("memory/a");
	t.mkdirs("pids/a");
	jail::CgroupHost host;
	host.mounts = jail::parse_mountinfo(t.mount_line("unified", "cgroup2", "rw") +
					    t.mount_line("cpu,cpuacct", "cgroup", "rw,cpu,cpuacct") +
					    t.mount_line("memory", "cgroup", "rw,memory") +
					    t.mount_line("pids", "cgroup", "rw,pids"));
	host.own = jail::parse_proc_cgroup("4:memory:/a\n3:pids:/a\n2:cpu,cpuacct:/a\n0::/a\n");

	auto cg = jail::make_cgroup(host, "jail-d", "", {"cpu", "memory"});
	ASSERT_EQ(cg->version(), 1);
	EXPECT_EQ(cg->dirs(), (std::vector<std::string>{t.path("cpu,cpuacct/a/jail-d"), t.path("memory/a/jail-d"),
							t.path("pids/a/jail-d")}));
	t.files("cpu,cpuacct/a/jail-d", {"cgroup.procs", "cpu.cfs_period_us", "cpu.cfs_quota_us"});
	t.files("memory/a/jail-d", {"cgroup.procs", "memory.limit_in_bytes"});
	t.files("pids/a/jail-d", {"cgroup.procs", "pids.max"});
	cg->set_limits(limits(150000, 1 << 20, 8));
	EXPECT_EQ(t.get("cpu,cpuacct/a/jail-d/cpu.cfs_period_us"), "100000");
	EXPECT_EQ(t.get("cpu,cpuacct/a/jail-d/cpu.cfs_quota_us"), "150000");
	EXPECT_EQ(t.get("memory/a/jail-d/memory.limit_in_bytes"), "1048576");
	EXPECT_FALSE(access(t.path("memory/a/jail-d/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0);
	EXPECT_EQ(t.get("pids/a/jail-d/pids.max"), "8");
	cg->add(4343);
	EXPECT_EQ(t.get("memory/a/jail-d/cgroup.procs"), "4343");
	EXPECT_EQ(t.get("pids/a/jail-d/cgroup.procs"), "4343");

	t.put("memory/a/jail-d/memory.max_usage_in_bytes", "2000\n");
	t.put("cpu,cpuacct/a/jail-d/cpuacct.usage", "5000000\n");
	t.put("cpu,cpuacct/a/jail-d/cpu.stat", "nr_periods 3\nnr_throttled 1\n");
	t.put("pids/a/jail-d/pids.max", "max\n");
	EXPECT_EQ(bencher::json::dump(jail::stats_json(cg->stats())),
		  R"({"cgroup_version":1,"memory_peak_bytes":2000,"memory_max_bytes":1048576,"cpu_usage_usec":5000,)"
		  R"("nr_throttled":1})");

	for (const char* d : {"cpu,cpuacct/a/jail-d", "memory/a/jail-d", "pids/a/jail-d"}) t.clear(d);
	cg.reset();  // the destructor removes it too
	EXPECT_NE(access(t.path("memory/a/jail-d").c_str(), F_OK), 0);
	EXPECT_NE(access(t.path("cpu,cpuacct/a/jail-d").c_str(), F_OK), 0);
}

// v2 wins where it has the controllers, even with v1 mounted beside it; a
// controller found in neither is named.
TEST(CgroupProbe, PrefersV2AndNamesMissingControllers) {
	FakeCgroupTree t;
	t.mkdirs("memory");
	jail::CgroupHost host = t.v2_host("v2", "", "cpu memory\n", t.mount_line("memory", "cgroup", "rw,memory"));
	auto cg = jail::make_cgroup(host, "jail-e", "", {"memory"});
	EXPECT_EQ(cg->version(), 2);
	cg->remove();
	EXPECT_EQ(error_of([&] { jail::make_cgroup(host, "jail-f", "", {"pids"}); }),
		  "cgroup: the pids controller is mounted neither in cgroup v2 (" + t.path("v2") + ") nor in v1");
	host.mounts = jail::parse_mountinfo(t.mount_line("memory", "cgroup", "rw,memory"));
	EXPECT_EQ(error_of([&] { jail::make_cgroup(host, "jail-f", "", {"cpu"}); }),
		  "cgroup: the cpu controller is mounted neither in cgroup v2 (not mounted) nor in v1");
}

TEST(CgroupProbe, RequiredControllers) {
	jail::CgroupLimits l;
	EXPECT_TRUE(jail::required_controllers(l).empty());
	l.memory_bytes = 1;
	l.pids_max = 1;
	EXPECT_EQ(jail::required_controllers(l), (std::set<std::string>{"memory", "pids"}));
}
