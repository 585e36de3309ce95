// bencher-vmtest: vmtest's front end on the bencher toolchain. Runs a host
// command under a chosen kernel (the host's root shared read-only over
// virtio-fs), or the targets of a vmtest.toml. The logic is in lib/vmtest/.
#include "common/error.hh"
#include "vmtest/cli.hh"

int main(int argc, char** argv) {
	return bencher::run_main("bencher-vmtest", [&] { return bencher::vmtest::vmtest_main(argc, argv); });
}
