// root.cc: the virtio-fs root's plan and its application (see root.hh).
#include "guest/root.hh"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/error.hh"

namespace bencher::guest {

namespace {

RootStep mount_step(std::string source, std::string target, std::string fstype, unsigned long flags,
                    std::string data = {}) {
	return {RootStep::Op::mount, std::move(target), std::move(source), std::move(fstype), flags, std::move(data)};
}

RootStep dir_step(std::string target) { return {RootStep::Op::mkdir, std::move(target), {}, {}, 0, {}}; }

size_t depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

void make_dirs(const std::string& path) {
	for (size_t i = 1; i <= path.size(); i++) {
		if (i < path.size() && path[i] != '/') continue;
		std::string dir = path.substr(0, i);
		if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("mkdir " + dir);
	}
}

}  // namespace

std::vector<RootStep> root_plan(const results::RunConfig& cfg) {
	const std::string root = kNewRoot, ram = kRamDir;
	constexpr unsigned long kPseudo = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	std::vector<RootStep> p;
	// The host's tree is never written through this mount: writes land in
	// the tmpfs upper, and go away with the VM.
	p.push_back(mount_step(cfg.root_virtiofs, kLowerDir, "virtiofs", MS_RDONLY));
	p.push_back(mount_step("tmpfs", ram, "tmpfs", MS_NOSUID, "mode=0755"));
	p.push_back(dir_step(ram + "/upper"));
	p.push_back(dir_step(ram + "/work"));
	p.push_back(mount_step("overlay", root, "overlay", 0,
	                       std::string("lowerdir=") + kLowerDir + ",upperdir=" + ram + "/upper,workdir=" + ram + "/work"));
	// Inside from here on, so a path through one of the host's absolute
	// symlinks (/var/run -> /run) resolves as the workload will see it.
	p.push_back({RootStep::Op::enter, root, {}, {}, 0, {}});
	p.push_back(mount_step("proc", "/proc", "proc", kPseudo));
	p.push_back(mount_step("sysfs", "/sys", "sysfs", kPseudo));
	p.push_back(mount_step("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"));
	// devtmpfs has no /dev/fd (udev makes it on a host); bash's <(...) needs it.
	p.push_back({RootStep::Op::symlink, "/dev/fd", "/proc/self/fd", {}, 0, {}});
	p.push_back(mount_step("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
	p.push_back(mount_step("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
	p.push_back(mount_step("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
	// After the pseudo file systems, so a share below /tmp or /run is not
	// hidden by them; parents before children, so a nested share shows.
	std::vector<results::Mount> mounts = cfg.mounts;
	std::stable_sort(mounts.begin(), mounts.end(),
	                 [](const results::Mount& a, const results::Mount& b) { return depth(a.path) < depth(b.path); });
	for (const auto& m : mounts)
		p.push_back(mount_step(m.tag, m.path, "virtiofs", m.writable ? 0 : MS_RDONLY));
	return p;
}

void apply_plan(const std::vector<RootStep>& plan) {
	for (const RootStep& s : plan) {
		switch (s.op) {
		case RootStep::Op::mkdir: make_dirs(s.target); break;
		case RootStep::Op::mount:
			make_dirs(s.target);
			if (mount(s.source.c_str(), s.target.c_str(), s.fstype.c_str(), s.flags,
			          s.data.empty() ? nullptr : s.data.c_str()) < 0)
				fail_errno("mount " + s.fstype + " " + s.source + " on " + s.target);
			break;
		case RootStep::Op::symlink:
			if (symlink(s.source.c_str(), s.target.c_str()) < 0 && errno != EEXIST)
				fail_errno("symlink " + s.target);
			break;
		case RootStep::Op::enter:
			// The initramfs cannot be pivot_root'ed away: move the new
			// root over it and chroot, as switch_root(8) does.
			if (chdir(s.target.c_str()) < 0) fail_errno("chdir " + s.target);
			if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) fail_errno("move " + s.target + " to /");
			if (chroot(".") < 0) fail_errno("chroot " + s.target);
			if (chdir("/") < 0) fail_errno("chdir /");
			break;
		}
	}
}

}  // namespace bencher::guest
