// cli.hh: mkrootfs's command line, parsed and checked into BuildOptions;
// the thin main in bin/mkrootfs hands them to build().
#pragma once

#include <string>

#include "rootfs/build.hh"

namespace bencher::rootfs {

// Parses argv and SOURCE_DATE_EPOCH (throws usage errors; --help/--version
// throw ExitRequest).
BuildOptions parse_args(int argc, char** argv);

// The estimate in an oci-unpack --estimate --config-out file.
StreamSize load_stream_size(const std::string& path);

}  // namespace bencher::rootfs
