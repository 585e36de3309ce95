// args.hh: bencher-jailer's command line, turned into a Plan: --config read
// first, then each option applied over it in the order given, then the
// program from --exec or the first operand (looked up in PATH). The Plan is
// not yet validated; see plan.hh.
#pragma once

#include "jail/plan.hh"

namespace bencher::jail {

// Throws usage errors (exit 2) naming the option; --help and --version
// throw ExitRequest.
Plan plan_from_args(int argc, char** argv);

}  // namespace bencher::jail
