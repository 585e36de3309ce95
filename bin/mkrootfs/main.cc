// mkrootfs: a tar stream or a directory to a bootable ext4 root file system,
// written with libext2fs: no root, no mount, no intermediate directory.
// Second stage of the pipeline: `oci-unpack IMAGE | mkrootfs -o rootfs.ext4`.
// The logic lives in lib/rootfs/ (cli.hh for the command line).
#include <clocale>

#include "common/error.hh"
#include "rootfs/build.hh"
#include "rootfs/cli.hh"

int main(int argc, char** argv) {
	// libarchive converts UTF-8 pax names to the locale's charset.
	std::setlocale(LC_CTYPE, "C.UTF-8");
	return bencher::run_main("mkrootfs", [&] {
		bencher::rootfs::build(bencher::rootfs::parse_args(argc, argv));
		return 0;
	});
}
