// root.hh: the workload's root when the run config names a virtio-fs root
// (bencher-vmtest): the host's tree read-only under a RAM overlay, the
// config's mounts inside it, fresh /proc /sys /dev /run /tmp, and init moved
// into it as switch_root does. The sequence is data first (root_plan), so it
// is unit-tested without a VM; apply_plan then performs it in the guest.
#pragma once

#include <string>
#include <vector>

#include "results/protocol.hh"

namespace bencher::guest {

// Below init's initramfs root: the virtio-fs lower, the tmpfs holding the
// overlay's upper and work dirs, and the overlay the workload gets.
constexpr const char* kLowerDir = "/bencher/lower";
constexpr const char* kRamDir = "/bencher/ram";
constexpr const char* kNewRoot = "/bencher/root";

struct RootStep {
	enum class Op { mkdir, mount, enter, symlink } op;
	std::string target;   // mkdir: made with its parents; mount: the mount point (made too); symlink: the link
	std::string source;   // mount: the device or tag; symlink: what the link points to
	std::string fstype;
	unsigned long flags = 0;
	std::string data;
	bool operator==(const RootStep&) const = default;
};

// The steps for cfg.root_virtiofs and cfg.mounts (validated configs only):
// the lower, the overlay, `enter` (move the overlay onto / and chroot
// there), then inside it /proc /sys /dev (with /dev/fd, which bash's
// process substitution needs) /dev/shm /run /tmp and each mount, parents
// before children.
std::vector<RootStep> root_plan(const results::RunConfig& cfg);

// Performs the steps; the first failure throws, naming the step.
void apply_plan(const std::vector<RootStep>& plan);

}  // namespace bencher::guest
