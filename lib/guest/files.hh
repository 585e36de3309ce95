// files.hh: the output files a run asks for (the run config's "files"),
// read after the workload has exited and sent on the files port in the
// results/protocol.hh stream form, in the config's order.
#pragma once

#include "guest/sink.hh"
#include "results/protocol.hh"

namespace bencher::guest {

// Sends every requested file (or its status: missing, not regular, too
// large, unreadable) and closes the files port.
void send_files(const results::RunConfig& cfg, ResultSink& sink);

}  // namespace bencher::guest
