// rootfs_tar: fuzzes mkrootfs's tar-entry -> ext4 path: the input is a tar
// stream (any libarchive filter), read with lib/rootfs/tar_source and
// written with lib/rootfs/ext4_writer into a memfd-backed image. Hostile
// names, links, sparse maps and xattrs must give an Error, never a crash.
// fuzz-sources: lib/rootfs/tar_source.cc lib/rootfs/ext4_writer.cc lib/rootfs/estimate.cc lib/rootfs/path.cc lib/common/error.cc lib/common/digest.cc lib/common/fd.cc lib/common/log.cc
// fuzz-pkgs: libarchive ext2fs com_err libcrypto
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "rootfs/ext4_writer.hh"
#include "rootfs/tar_source.hh"

using namespace bencher;
using namespace bencher::rootfs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	static bool quiet = (log::set_level(log::Level::error), true);
	(void)quiet;
	UniqueFd in(memfd_create("tar", MFD_CLOEXEC));
	UniqueFd img(memfd_create("img", MFD_CLOEXEC));
	if (!in || !img) return 0;
	try {
		write_all(in.get(), data, size, "input");
		lseek(in.get(), 0, SEEK_SET);
		WriterOptions o;
		o.blocks = 8192;  // 32 MiB, sparse: only written blocks cost memory
		o.inodes = 2048;
		o.now = 1700000000;
		Ext4Writer w("/proc/self/fd/" + std::to_string(img.get()), img.get(), o);
		TarReader r(in.get(), "input");
		Entry e;
		for (int n = 0; n < 10000 && r.next(e); n++) w.add(e, r.data());
		w.finish();
	} catch (const Error&) {
	}
	return 0;
}
