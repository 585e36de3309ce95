// cli.hh: bencher-plan's command line (bin/bencher-plan/main.cc is only the
// call): the runner's options checked and handed back as shell assignments,
// or, given oci-unpack's config summary, the run planned (bencher-plan(1)).
#pragma once

namespace bencher::runner {

// The whole of bencher-plan: parses argv, writes the assignments to stdout.
// Throws Error (usage errors with kExitUsage) as every library does.
void plan_main(int argc, char** argv);

}  // namespace bencher::runner
