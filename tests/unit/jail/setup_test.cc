// Unit tests for lib/jail/setup: the new root's operations as the Plan makes
// them (no mount is made), and the mount points the parent makes for them
// in a jail root, never through a symbolic link.
#include "jail/setup.hh"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"

namespace jail = bencher::jail;
using Kind = jail::SetupOp::Kind;

TEST(Setup, RootOpsInOrder) {
	jail::Plan plan;
	plan.bind_mounts = {{"/srv/b", "/data/b", false}, {"/srv", "/data", true}};
	std::vector<jail::JailFile> libs = {{"/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/ld.so"}};
	// A host with no /dev/kvm.
	auto ops = jail::root_ops(plan, libs, [](const std::string& p) { return p != "/dev/kvm"; });
	std::vector<jail::SetupOp> want = {
		{Kind::mount_fs, "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
		{Kind::mount_fs, "tmpfs", "/dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64"},
		{Kind::dev_node, "/dev/null", "/dev/null", MS_NOSUID | MS_NOEXEC, ""},
		{Kind::dev_node, "/dev/zero", "/dev/zero", MS_NOSUID | MS_NOEXEC, ""},
		{Kind::dev_node, "/dev/urandom", "/dev/urandom", MS_NOSUID | MS_NOEXEC, ""},
		{Kind::remount, "", "/dev", MS_RDONLY | MS_NOSUID | MS_NOEXEC, ""},
		{Kind::bind, "/usr/lib/x86_64-linux-gnu/ld.so", "/lib64/ld-linux-x86-64.so.2", MS_RDONLY | MS_NOSUID | MS_NODEV, ""},
		// Outer destinations first, so /data/b is not hidden by /data.
		{Kind::bind, "/srv", "/data", MS_RDONLY | MS_NOSUID | MS_NODEV, ""},
		{Kind::bind, "/srv/b", "/data/b", MS_NOSUID | MS_NODEV, ""},
	};
	EXPECT_EQ(ops, want);
}

TEST(Setup, MountPointsMadeAndRemoved) {
	bencher::TempDir host("jail-setup");
	std::string src_dir = host.path() + "/srcdir", src_file = host.path() + "/srcfile";
	ASSERT_EQ(mkdir(src_dir.c_str(), 0755), 0);
	bencher::UniqueFd(open(src_file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	std::string root_path = host.path() + "/root";
	ASSERT_EQ(mkdir(root_path.c_str(), 0755), 0);
	{
		jail::JailRoot root(root_path);  // exists: only what it makes goes again
		std::vector<jail::SetupOp> ops = {
			{Kind::mount_fs, "proc", "/proc", 0, ""},
			{Kind::dev_node, "/dev/null", "/dev/null", 0, ""},  // made in the jail's tmpfs, not here
			{Kind::bind, src_dir, "/a/dir", 0, ""},
			{Kind::bind, src_file, "/a/file", 0, ""},
		};
		jail::make_mount_points(root, ops);
		struct stat st;
		ASSERT_EQ(stat((root_path + "/proc").c_str(), &st), 0);
		EXPECT_TRUE(S_ISDIR(st.st_mode));
		ASSERT_EQ(stat((root_path + "/a/dir").c_str(), &st), 0);
		EXPECT_TRUE(S_ISDIR(st.st_mode));
		ASSERT_EQ(stat((root_path + "/a/file").c_str(), &st), 0);
		EXPECT_TRUE(S_ISREG(st.st_mode));
		EXPECT_NE(access((root_path + "/dev").c_str(), F_OK), 0);

		std::vector<jail::SetupOp> missing = {{Kind::bind, "/nonexistent", "/x", 0, ""}};
		try {
			jail::make_mount_points(root, missing);
			ADD_FAILURE() << "no error";
		} catch (const bencher::Error& e) {
			EXPECT_EQ(std::string(e.what()), "bind /nonexistent to " + root_path + "/x: No such file or directory");
		}
	}
	EXPECT_EQ(access(root_path.c_str(), F_OK), 0);
	EXPECT_NE(access((root_path + "/a").c_str(), F_OK), 0);
}

TEST(Setup, SymlinkInTheRootIsRefused) {
	bencher::TempDir host("jail-setup");
	std::string root_path = host.path() + "/root", outside = host.path() + "/outside";
	ASSERT_EQ(mkdir(root_path.c_str(), 0755), 0);
	ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
	ASSERT_EQ(symlink(outside.c_str(), (root_path + "/lib").c_str()), 0);
	jail::JailRoot root(root_path);
	try {
		jail::make_mount_points(root, {{Kind::mount_fs, "tmpfs", "/lib/x", 0, ""}});
		ADD_FAILURE() << "no error";
	} catch (const bencher::Error& e) {
		EXPECT_EQ(std::string(e.what()),
			  "jail root: " + root_path + "/lib: a symbolic link (not followed in a jail root)");
	}
	EXPECT_NE(access((outside + "/x").c_str(), F_OK), 0);
}
