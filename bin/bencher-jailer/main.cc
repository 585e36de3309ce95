// bencher-jailer: runs a program (the VMM) in fresh namespaces, a cgroup, an
// empty pivot_root'ed root, with rlimits, no capabilities and no_new_privs.
// This main only strings the steps together; the command line is
// lib/jail/args, the work the rest of lib/jail. See bencher-jailer(1) and
// bencher-jailer.json(5).
#include "common/error.hh"
#include "jail/args.hh"
#include "jail/jail.hh"
#include "jail/plan.hh"

int main(int argc, char** argv) {
	return bencher::run_main("bencher-jailer", [&] {
		bencher::jail::Plan plan = bencher::jail::plan_from_args(argc, argv);
		bencher::jail::validate(plan);
		return bencher::jail::run(plan);
	});
}
