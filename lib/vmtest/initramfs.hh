// initramfs.hh: the initramfs bencher-vmtest boots any kernel with: a newc
// cpio (the kernel's initramfs format) holding bencher-init as /init and, for
// a modular kernel, the modules it loads first (guest/modules.hh says where).
// Written with libarchive, deterministically, into an unnamed file the VMM
// gets as --initrd-fd.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/fd.hh"

namespace bencher::vmtest {

struct InitramfsSpec {
	std::string init;                  // host path of bencher-init (a static binary)
	std::vector<std::string> modules;  // host paths of .ko (.ko.xz, .ko.zst, .ko.gz), in load order
	// More files: {guest path, host path}; the guest path absolute, its
	// directories made 0755. A hermetic guest's programs, a test's busybox.
	std::vector<std::pair<std::string, std::string>> files;
};

// The archive in a memfd, positioned at its start. Same spec and inputs,
// same bytes: times 0, owner root, entries sorted.
UniqueFd build_initramfs(const InitramfsSpec& spec);

}  // namespace bencher::vmtest
