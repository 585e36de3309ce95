// oci-unpack: the first stage of the pipeline (design.md): any OCI or Docker
// image, local or in a registry, to one flattened tar stream (whiteouts
// applied) plus the image config the runner needs. Never needs root.
// The logic lives in lib/oci/ (unpack.hh for the command line).
#include "common/error.hh"
#include "oci/unpack.hh"

int main(int argc, char** argv) {
	return bencher::run_main("oci-unpack", [&] {
		bencher::oci::unpack(bencher::oci::parse_args(argc, argv));
		return 0;
	});
}
