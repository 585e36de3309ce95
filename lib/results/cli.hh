// cli.hh: collect-results' command line (bin/collect-results/main.cc is only
// the call): the options parsed and checked before anything is acted on,
// then a collection (collector.hh), a --merge, or an --encode-config.
#pragma once

#include <cstdint>

namespace bencher::results {

// The whole of collect-results; `started` is the program's start on
// CLOCK_REALTIME in microseconds, taken first thing for the stage times.
// Returns the exit status; throws Error as every library does.
int collect_main(int argc, char** argv, int64_t started);

}  // namespace bencher::results
