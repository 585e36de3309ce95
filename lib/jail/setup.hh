// setup.hh: the jail's new root as a list of operations, as bubblewrap's
// SetupOp: built from the Plan first (a pure function, unit-tested), then
// walked twice, by the parent to make the mount points in the jail root on
// the host, and by the jail's PID 1 to mount them in its own mount namespace
// before pivot_root.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "jail/elf.hh"
#include "jail/plan.hh"
#include "jail/root.hh"

namespace bencher::jail {

struct SetupOp {
	enum class Kind {
		mount_fs,  // a fresh file system (source: its type) on a directory
		dev_node,  // a file made in the jail's /dev, the host's node bound on it
		bind,      // a host file or directory bound on a mount point
		remount,   // flags added to the mount already at dest
	};
	Kind kind;
	std::string source;  // mount_fs: the fstype; dev_node, bind: the host path
	std::string dest;    // absolute, inside the jail
	unsigned long flags = 0;  // MS_* for the mount, or added by a remount after a bind
	std::string data;         // mount_fs: its options

	bool operator==(const SetupOp&) const = default;
};

// /proc, a minimal read-only /dev (those of null, zero, urandom, kvm that
// the host has as character devices), the program's libraries read-only,
// then the plan's binds, outer destinations first.
std::vector<SetupOp> root_ops(const Plan& plan, const std::vector<JailFile>& libs,
			      const std::function<bool(const std::string&)>& host_has_char_dev);
bool is_char_dev(const std::string& path);

// In the parent: the mount points every op needs, made in the jail root; a
// bind's source must exist (it says whether the point is a directory).
void make_mount_points(JailRoot& root, const std::vector<SetupOp>& ops);

// In the jail's PID 1, in its new mount namespace: performs the ops below
// rootfd. root names the jail root in messages; userns adds the user
// namespace hints to a refusal.
void apply_ops(const std::vector<SetupOp>& ops, int rootfd, const std::string& root, bool userns);

// " (hint)" for a mount refused with err inside a user namespace, or "".
std::string mount_hint(int err, bool userns);

// A remount of the mount at `abs` below rootfd adding flags, keeping the
// ones the kernel locked.
void remount_beneath(int rootfd, const std::string& abs, unsigned long flags, const std::string& root, bool userns);

// MS_* flags for a statvfs f_flag (what a bind remount must keep).
unsigned long statvfs_to_ms(unsigned long f);

}  // namespace bencher::jail
