// setup.cc: the new root's operations (see setup.hh). Mounts go through
// /proc/self/fd paths of O_PATH fds opened beneath the jail root, so no
// mount lands outside it whatever the root holds.
#include "jail/setup.hh"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.hh"
#include "jail/explain.hh"

namespace bencher::jail {

namespace {

using Kind = SetupOp::Kind;

void bind_into(int rootfd, const SetupOp& op, const std::string& root, bool userns) {
	UniqueFd t = open_beneath(rootfd, op.dest, O_PATH);
	if (!t)
		fail(strprintf("bind %s to %s%s: %s", op.source.c_str(), root.c_str(), op.dest.c_str(), strerror(errno)));
	if (mount(op.source.c_str(), fd_path(t.get()).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
		int err = errno;
		fail(strprintf("bind %s to %s%s: %s%s", op.source.c_str(), root.c_str(), op.dest.c_str(), strerror(err),
			       mount_hint(err, userns).c_str()));
	}
	if (op.flags) remount_beneath(rootfd, op.dest, op.flags, root, userns);
}

void mount_at(int rootfd, const SetupOp& op, const std::string& root, bool userns) {
	const char* fstype = op.source.c_str();
	UniqueFd t = open_beneath(rootfd, op.dest, O_PATH | O_DIRECTORY);
	if (!t) fail_errno(strprintf("mount %s on %s%s", fstype, root.c_str(), op.dest.c_str()));
	if (mount(fstype, fd_path(t.get()).c_str(), fstype, op.flags, op.data.empty() ? nullptr : op.data.c_str()) != 0) {
		int err = errno;
		fail(strprintf("mount %s on %s%s: %s%s", fstype, root.c_str(), op.dest.c_str(), strerror(err),
			       mount_hint(err, userns).c_str()));
	}
}

// The file a device node is bound on, in the jail's own /dev tmpfs.
void make_node_file(int rootfd, const std::string& dest, const std::string& root) {
	UniqueFd dir = open_beneath(rootfd, parent_of(dest), O_PATH | O_DIRECTORY);
	if (!dir) fail_errno("jail " + parent_of(dest));
	std::string name = dest.substr(dest.rfind('/') + 1);
	UniqueFd f(openat(dir.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666));
	if (!f) fail_errno("create " + root + dest);
}

}  // namespace

std::string mount_hint(int err, bool userns) {
	if ((err == EPERM || err == EACCES) && userns) return userns_hint();
	return "";
}

unsigned long statvfs_to_ms(unsigned long f) {
	unsigned long ms = 0;
	if (f & ST_RDONLY) ms |= MS_RDONLY;
	if (f & ST_NOSUID) ms |= MS_NOSUID;
	if (f & ST_NODEV) ms |= MS_NODEV;
	if (f & ST_NOEXEC) ms |= MS_NOEXEC;
	if (f & ST_NOATIME) ms |= MS_NOATIME;
	if (f & ST_NODIRATIME) ms |= MS_NODIRATIME;
	if (f & ST_RELATIME) ms |= MS_RELATIME;
	return ms;
}

bool is_char_dev(const std::string& path) {
	struct stat st;
	return stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

std::vector<SetupOp> root_ops(const Plan& plan, const std::vector<JailFile>& libs,
			      const std::function<bool(const std::string&)>& host_has_char_dev) {
	std::vector<SetupOp> ops;
	ops.push_back({Kind::mount_fs, "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""});
	ops.push_back({Kind::mount_fs, "tmpfs", "/dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64"});
	for (const char* node : {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/kvm"})
		if (host_has_char_dev(node)) ops.push_back({Kind::dev_node, node, node, MS_NOSUID | MS_NOEXEC, ""});
	ops.push_back({Kind::remount, "", "/dev", MS_RDONLY | MS_NOSUID | MS_NOEXEC, ""});
	for (const JailFile& lib : libs)
		ops.push_back({Kind::bind, lib.host_path, lib.jail_path, MS_RDONLY | MS_NOSUID | MS_NODEV, ""});
	std::vector<BindMount> binds = plan.bind_mounts;
	std::sort(binds.begin(), binds.end(), [](auto& a, auto& b) { return a.dest < b.dest; });
	for (const BindMount& b : binds) {
		unsigned long flags = MS_NOSUID | MS_NODEV;
		if (b.read_only) flags |= MS_RDONLY;
		ops.push_back({Kind::bind, b.source, b.dest, flags, ""});
	}
	return ops;
}

void make_mount_points(JailRoot& root, const std::vector<SetupOp>& ops) {
	for (const SetupOp& op : ops) {
		if (op.kind == Kind::mount_fs) root.ensure(op.dest, true);
		if (op.kind != Kind::bind) continue;
		struct stat st;
		if (stat(op.source.c_str(), &st) != 0)
			fail(strprintf("bind %s to %s%s: %s", op.source.c_str(), root.path().c_str(), op.dest.c_str(),
				       strerror(errno)));
		root.ensure(op.dest, S_ISDIR(st.st_mode));
	}
}

void apply_ops(const std::vector<SetupOp>& ops, int rootfd, const std::string& root, bool userns) {
	for (const SetupOp& op : ops) {
		switch (op.kind) {
		case Kind::mount_fs:
			mount_at(rootfd, op, root, userns);
			break;
		case Kind::dev_node:
			make_node_file(rootfd, op.dest, root);
			bind_into(rootfd, op, root, userns);
			break;
		case Kind::bind:
			bind_into(rootfd, op, root, userns);
			break;
		case Kind::remount:
			remount_beneath(rootfd, op.dest, op.flags, root, userns);
			break;
		}
	}
}

void remount_beneath(int rootfd, const std::string& abs, unsigned long flags, const std::string& root, bool userns) {
	UniqueFd t = open_beneath(rootfd, abs, O_PATH);
	if (!t) fail_errno("remount " + root + abs);
	struct statvfs sv;
	if (fstatvfs(t.get(), &sv) != 0) fail_errno("remount " + root + abs);
	if (mount(nullptr, fd_path(t.get()).c_str(), nullptr, MS_REMOUNT | MS_BIND | statvfs_to_ms(sv.f_flag) | flags,
		  nullptr) != 0)
		fail(errno_message("remount " + root + abs, errno) + mount_hint(errno, userns));
}

}  // namespace bencher::jail
