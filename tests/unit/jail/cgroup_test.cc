// Unit tests for lib/jail/cgroup's parsers of kernel text and the stats
// document, and for lib/jail/explain's hints (no host state changed).
#include "jail/cgroup.hh"

#include <gtest/gtest.h>

#include "common/json.hh"
#include "jail/explain.hh"

namespace jail = bencher::jail;
namespace json = bencher::json;

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
