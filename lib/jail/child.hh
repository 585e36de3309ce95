// child.hh: the jail's side of a run. The cloned child, PID 1 of the new PID
// namespace, waits for the parent's go-ahead (cgroup joined, id maps
// written), builds the new root from the setup ops, drops every privilege,
// then forks the program and stays as its reaper, so signals reach the
// program with their ordinary meaning and a killed program's signal is
// reported as 128+N. Setup errors go back to the parent on a pipe.
#pragma once

#include <signal.h>

#include <string>
#include <utility>
#include <vector>

#include "jail/plan.hh"
#include "jail/setup.hh"

namespace bencher::jail {

constexpr int kSetupFailed = 125;  // the stub's status after reporting an error

// What the child needs, prepared by the parent. The fds stay owned there.
struct Child {
	const Plan* plan = nullptr;
	std::vector<SetupOp> ops;
	std::string root;
	int exec_fd = -1;
	std::vector<std::pair<int, int>> fds;  // (open fd, target number)
	int go_fd = -1;                        // read end: the parent's go-ahead
	int err_fd = -1;                       // write end: a setup error, or EOF at exec
	sigset_t old_mask;
	bool userns = false;
	bool root_user = false;
};

[[noreturn]] void stub_main(Child& c);

// A wait status as the jailer's exit status: the code, or 128+N.
int status_code(int st);

}  // namespace bencher::jail
