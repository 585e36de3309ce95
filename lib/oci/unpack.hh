// unpack.hh: oci-unpack's job, between its thin main and the library: the
// command line, the forms an IMAGE argument takes (layout, archive,
// registry), and the run from the resolved image to a tar stream or a
// directory plus the config summary the runner reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "oci/image.hh"

namespace bencher::oci {

struct UnpackOptions {
	std::string output, output_dir, config_out, cache_dir;
	std::string digest;  // --digest: the manifest (or docker-save config) to take
	Platform platform = host_platform();
	bool insecure = false;
	bool config_only = false;
	bool estimate = false;  // the config summary carries estimate{bytes, entries}
	uint64_t max_size = 0;
	std::string image;
};

// Parses and checks argv (throws usage errors; --help/--version throw
// ExitRequest).
UnpackOptions parse_args(int argc, char** argv);

// The source IMAGE names, local or remote; with a digest the image it holds
// under that digest, whatever tag IMAGE names.
std::unique_ptr<Source> open_image(const UnpackOptions& o);

// The whole run: resolve, then write the config summary and (unless
// --config-only) the flattened image.
void unpack(UnpackOptions o);

}  // namespace bencher::oci
