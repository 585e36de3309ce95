// Unit tests for lib/guest/root: the virtio-fs root's mount sequence as data,
// since performing it needs a guest (tests/bats/kvm and bencher-vmtest's
// suites boot one).
#include "guest/root.hh"

#include <sys/mount.h>

#include <gtest/gtest.h>

using namespace bencher;
using namespace bencher::guest;
using Op = RootStep::Op;

namespace {

results::RunConfig config() {
	results::RunConfig c;
	c.argv = {"true"};
	c.root_virtiofs = "hostroot";
	return c;
}

std::vector<std::string> targets(const std::vector<RootStep>& p) {
	std::vector<std::string> out;
	for (const auto& s : p) out.push_back(s.target);
	return out;
}

}  // namespace

TEST(RootPlan, ReadOnlyLowerUnderARamOverlay) {
	std::vector<RootStep> p = root_plan(config());
	ASSERT_GE(p.size(), 6u);
	EXPECT_EQ(p[0], (RootStep{Op::mount, "/bencher/lower", "hostroot", "virtiofs", MS_RDONLY, ""}));
	EXPECT_EQ(p[1], (RootStep{Op::mount, "/bencher/ram", "tmpfs", "tmpfs", MS_NOSUID, "mode=0755"}));
	EXPECT_EQ(p[4], (RootStep{Op::mount, "/bencher/root", "overlay", "overlay", 0,
	                          "lowerdir=/bencher/lower,upperdir=/bencher/ram/upper,workdir=/bencher/ram/work"}));
	EXPECT_EQ(p[5].op, Op::enter);
	EXPECT_EQ(p[9], (RootStep{Op::symlink, "/dev/fd", "/proc/self/fd", "", 0, ""}));
	EXPECT_EQ(targets(p), (std::vector<std::string>{"/bencher/lower", "/bencher/ram", "/bencher/ram/upper", "/bencher/ram/work",
	                                                "/bencher/root", "/bencher/root", "/proc", "/sys", "/dev", "/dev/fd", "/dev/shm",
	                                                "/run", "/tmp"}));
	// Nothing but the overlay's upper is ever writable.
	for (const auto& s : p)
		if (s.fstype == "virtiofs") {
			EXPECT_TRUE(s.flags & MS_RDONLY) << s.target;
		}
}

TEST(RootPlan, MountsInsideParentsFirstReadOnlyUnlessWritable) {
	results::RunConfig c = config();
	c.mounts = {{"m0", "/home/u/src/sub", false}, {"m1", "/mnt/vmtest", true}, {"m2", "/home/u/src", false}, {"m3", "/tmp/x", true}};
	std::vector<RootStep> p = root_plan(c);
	std::vector<std::string> t = targets(p);
	ASSERT_EQ(t.size(), 17u);
	// After the pseudo file systems (a share below /tmp stays visible), in
	// the new root, by depth.
	EXPECT_EQ(std::vector<std::string>(t.begin() + 13, t.end()),
	          (std::vector<std::string>{"/mnt/vmtest", "/tmp/x", "/home/u/src", "/home/u/src/sub"}));
	EXPECT_EQ(p[13], (RootStep{Op::mount, "/mnt/vmtest", "m1", "virtiofs", 0, ""}));
	EXPECT_EQ(p[15], (RootStep{Op::mount, "/home/u/src", "m2", "virtiofs", MS_RDONLY, ""}));
	EXPECT_EQ(p[16].source, "m0");
	EXPECT_EQ(p[16].flags, static_cast<unsigned long>(MS_RDONLY));
	EXPECT_EQ(p[14].flags, 0ul);
}
