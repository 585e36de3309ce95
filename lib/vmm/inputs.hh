// inputs.hh: the first step of the VM's build sequence (vm.cc): every file
// and fd the configuration names is opened and checked here, so a bad
// kernel, rootfs or socket is reported before KVM is touched, and after
// setup the VMM opens no path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.hh"
#include "vmm/config.hh"
#include "vmm/virtio/block.hh"

namespace bencher::vmm {

// A kernel or initrd, mapped read-only. The loader reads the kernel's
// headers from the mapping and MappedMemory::place maps its segments into
// guest RAM from the same file, so a 10-20 MB vmlinux is neither read nor
// copied whole; the initrd is copied from the mapping. An empty file is an
// empty image (no mapping): the loaders say what is wrong with it.
struct Image {
	UniqueFd fd;
	Mapping map;
	const uint8_t* data() const { return map.bytes(); }
	size_t size() const { return map.size(); }
};

struct Inputs {
	Image kernel, initrd;
	std::unique_ptr<virtio::Disk> disk;  // none without a rootfs
	UniqueFd vsock;                      // the control socket, or none
	struct Virtiofs {
		std::string tag;
		UniqueFd sock;  // connected to the vhost-user backend
	};
	std::vector<Virtiofs> virtiofs;
	UniqueFd console;
	UniqueFd kvm;  // an inherited /dev/kvm, or none (then open it)
};

Inputs open_inputs(const VmConfig& c);

// A FileArg opened with flags, or its fd duplicated (close-on-exec, above
// the standard fds); errors name `what`.
UniqueFd open_arg(const FileArg& f, int flags, const char* what);

}  // namespace bencher::vmm
