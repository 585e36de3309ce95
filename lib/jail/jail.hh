// jail.hh: running a Plan. The parent creates the cgroup and the jail root's
// mount points, clones a child into fresh namespaces, places it in the cgroup
// and writes its uid/gid maps before letting it go on; the child builds the
// new root, drops everything and starts the program; the parent forwards
// SIGTERM/SIGINT/SIGHUP, collects the status and cleans up on every path.
#pragma once

#include <string>

#include "jail/plan.hh"

namespace bencher::jail {

// Runs the plan; returns the program's exit status (128+N when killed by
// signal N). Throws Error for the jailer's own failures (exit 1).
int run(const Plan& plan);

// execvp-style lookup of a command name in PATH; names with '/' are kept.
std::string find_program(const std::string& name);

}  // namespace bencher::jail
