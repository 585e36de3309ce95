// bencher-jailer: runs a program (the VMM) in fresh namespaces, a cgroup, an
// empty pivot_root'ed root, with rlimits, no capabilities and no_new_privs.
// This main only turns the command line and --config into a Plan; the work
// is in lib/jail. See bencher-jailer(1) and bencher-jailer.json(5).
#include <functional>
#include <string>
#include <vector>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/json.hh"
#include "common/size.hh"
#include "jail/jail.hh"
#include "jail/plan.hh"

namespace {

const char kHelp[] =
	"Usage: bencher-jailer [OPTIONS] --exec PATH [--] [ARGS...]\n"
	"       bencher-jailer [OPTIONS] [--] COMMAND [ARGS...]\n"
	"Runs a program in new namespaces, a cgroup and an empty root, without\n"
	"capabilities, as an unprivileged uid. Exits with the program's status\n"
	"(128+N if killed by signal N); 1 on a jailer failure, 2 on a usage error.\n"
	"\n"
	"  --config FILE          JSON config (bencher-jailer.json(5)); options below override it\n"
	"  --id ID                jail name: the cgroup's name, default hostname\n"
	"  --exec PATH            program to run; operands are then its arguments\n"
	"  --jail-root DIR        root directory of the jail (default: a temporary one)\n"
	"  --memory SIZE          cgroup memory limit, e.g. 512M\n"
	"  --cpu N                cgroup CPU limit in CPUs, e.g. 0.5\n"
	"  --pids N               cgroup pids.max\n"
	"  --uid U, --gid G       ids the program runs as (default 65534)\n"
	"  --bind SRC:DEST[:ro]   bind-mount SRC at DEST in the jail (repeatable)\n"
	"  --fd PATH:N[:rw]       open PATH now and pass it as fd N (repeatable)\n"
	"  --keep-fd N            pass the inherited fd N through (repeatable)\n"
	"  --env NAME=VALUE       set a variable; the environment is otherwise empty\n"
	"  --workdir DIR          working directory in the jail (default /)\n"
	"  --hostname NAME        host name in the jail (default: the id)\n"
	"  --max-fds N            RLIMIT_NOFILE (default 1024)\n"
	"  --max-procs N          RLIMIT_NPROC (default 64)\n"
	"  --max-file-size SIZE   RLIMIT_FSIZE (default unlimited)\n"
	"  --parent-cgroup PATH   create the cgroup below PATH instead of the jailer's own\n"
	"  --no-cgroup            no cgroup (no cpu, memory or pids limits)\n"
	"  --share NS             keep the host's NS namespace: user, network, uts, ipc, cgroup\n"
	"  --stats-out FILE       write the cgroup figures as JSON after the program exits\n"
	"  --log-level LEVEL      error, warn, info or debug\n"
	"  -h, --help             this text\n"
	"      --version          version\n";

}  // namespace

int main(int argc, char** argv) {
	return bencher::run_main("bencher-jailer", [&] {
		using namespace bencher;
		using jail::Plan;
		std::string config;
		std::vector<std::function<void(Plan&)>> overrides;
		auto set = [&](std::function<void(Plan&)> fn) { overrides.push_back(std::move(fn)); };
		auto number = [](const std::string& v, const char* what, uint64_t min, uint64_t max) {
			try {
				return parse_uint(v, what, min, max);
			} catch (const Error& e) {
				fail_usage(e.what());
			}
		};
		auto size = [](const std::string& v, const char* what) {
			try {
				return parse_size(v, what);
			} catch (const Error& e) {
				fail_usage(e.what());
			}
		};
		cli::Parser parser({"bencher-jailer", kHelp});
		parser.value("config", 0, [&](const std::string& v) { config = v; })
			.value("id", 0, [&](const std::string& v) { set([v](Plan& p) { p.id = v; }); })
			.value("exec", 0, [&](const std::string& v) { set([v](Plan& p) { p.exec_path = v; }); })
			.value("jail-root", 0, [&](const std::string& v) { set([v](Plan& p) { p.jail_root = v; }); })
			.value("memory", 0,
			       [&](const std::string& v) {
				       uint64_t n = size(v, "--memory");
				       set([n](Plan& p) { p.limits.memory_bytes = n; });
			       })
			.value("cpu", 0,
			       [&](const std::string& v) {
				       uint64_t q = jail::parse_cpu(v);
				       set([q](Plan& p) {
					       p.limits.cpu_period_us = 100000;
					       p.limits.cpu_quota_us = q;
				       });
			       })
			.value("pids", 0,
			       [&](const std::string& v) {
				       uint64_t n = number(v, "--pids", 1, 4194304);
				       set([n](Plan& p) { p.limits.pids_max = n; });
			       })
			.value("uid", 0,
			       [&](const std::string& v) {
				       auto n = static_cast<uid_t>(number(v, "--uid", 0, 0xfffffffe));
				       set([n](Plan& p) { p.uid = n; });
			       })
			.value("gid", 0,
			       [&](const std::string& v) {
				       auto n = static_cast<gid_t>(number(v, "--gid", 0, 0xfffffffe));
				       set([n](Plan& p) { p.gid = n; });
			       })
			.value("bind", 0,
			       [&](const std::string& v) {
				       auto b = jail::parse_bind(v);
				       set([b](Plan& p) { p.bind_mounts.push_back(b); });
			       })
			.value("fd", 0,
			       [&](const std::string& v) {
				       auto f = jail::parse_fd_spec(v);
				       set([f](Plan& p) { p.fds.push_back(f); });
			       })
			.value("keep-fd", 0,
			       [&](const std::string& v) {
				       int n = static_cast<int>(number(v, "--keep-fd", 0, 1 << 20));
				       set([n](Plan& p) { p.keep_fds.push_back(n); });
			       })
			.value("env", 0,
			       [&](const std::string& v) {
				       auto kv = jail::parse_env(v);
				       set([kv](Plan& p) { p.env.push_back(kv); });
			       })
			.value("workdir", 0, [&](const std::string& v) { set([v](Plan& p) { p.workdir = v; }); })
			.value("hostname", 0, [&](const std::string& v) { set([v](Plan& p) { p.hostname = v; }); })
			.value("max-fds", 0,
			       [&](const std::string& v) {
				       uint64_t n = number(v, "--max-fds", 3, 1 << 20);
				       set([n](Plan& p) { p.limits.max_fds = n; });
			       })
			.value("max-procs", 0,
			       [&](const std::string& v) {
				       uint64_t n = number(v, "--max-procs", 1, 4194304);
				       set([n](Plan& p) { p.limits.max_procs = n; });
			       })
			.value("max-file-size", 0,
			       [&](const std::string& v) {
				       uint64_t n = size(v, "--max-file-size");
				       set([n](Plan& p) { p.limits.max_file_bytes = n; });
			       })
			.value("parent-cgroup", 0, [&](const std::string& v) { set([v](Plan& p) { p.parent_cgroup = v; }); })
			.flag("no-cgroup", 0, [&] { set([](Plan& p) { p.use_cgroup = false; }); })
			.value("share", 0,
			       [&](const std::string& v) {
				       bool jail::Namespaces::*field = nullptr;
				       if (v == "user") field = &jail::Namespaces::user;
				       else if (v == "network" || v == "net") field = &jail::Namespaces::network;
				       else if (v == "uts") field = &jail::Namespaces::uts;
				       else if (v == "ipc") field = &jail::Namespaces::ipc;
				       else if (v == "cgroup") field = &jail::Namespaces::cgroup;
				       else fail_usage("--share " + v + ": expected user, network, uts, ipc or cgroup");
				       set([field](Plan& p) { p.namespaces.*field = false; });
			       })
			.value("stats-out", 0, [&](const std::string& v) { set([v](Plan& p) { p.stats_out = v; }); });
		std::vector<std::string> operands = parser.parse(argc, argv);

		Plan plan;
		if (!config.empty()) jail::apply_json(plan, json::load_file(config, {1 << 20, 32}), config);
		for (auto& fn : overrides) fn(plan);
		if (!plan.exec_path.empty()) {
			if (!operands.empty()) plan.exec_args = operands;
		} else if (!operands.empty()) {
			plan.exec_path = jail::find_program(operands[0]);
			plan.exec_args.assign(operands.begin() + 1, operands.end());
		} else {
			fail_usage("no program to run: give --exec PATH or a command (see --help)");
		}
		jail::validate(plan);
		return jail::run(plan);
	});
}
