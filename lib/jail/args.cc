// args.cc: bencher-jailer's options (see args.hh). Each option's value is
// parsed when it is read, so a bad value is a usage error at once, and kept
// as an edit of the Plan, applied after the --config file.
#include "jail/args.hh"

#include <functional>
#include <string>
#include <vector>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/json.hh"
#include "common/size.hh"
#include "jail/jail.hh"

namespace bencher::jail {

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

using Edit = std::function<void(Plan&)>;
// An option's value -> the edit it makes.
using Reader = std::function<Edit(const std::string&)>;

// A value's parse error as a usage error (exit 2).
template <typename F>
auto as_usage(F parse) {
	try {
		return parse();
	} catch (const Error& e) {
		fail_usage(e.what());
	}
}

Reader text(std::string Plan::*field) {
	return [field](const std::string& v) -> Edit { return [field, v](Plan& p) { p.*field = v; }; };
}

// A number in [min, max] stored through `set`.
template <typename Set>
Reader number(const char* what, uint64_t min, uint64_t max, Set set) {
	return [=](const std::string& v) -> Edit {
		uint64_t n = as_usage([&] { return parse_uint(v, what, min, max); });
		return [set, n](Plan& p) { set(p, n); };
	};
}

template <typename Set>
Reader size(const char* what, Set set) {
	return [=](const std::string& v) -> Edit {
		uint64_t n = as_usage([&] { return parse_size(v, what); });
		return [set, n](Plan& p) { set(p, n); };
	};
}

Edit share(const std::string& v) {
	bool Namespaces::*field = nullptr;
	if (v == "user") field = &Namespaces::user;
	else if (v == "network" || v == "net") field = &Namespaces::network;
	else if (v == "uts") field = &Namespaces::uts;
	else if (v == "ipc") field = &Namespaces::ipc;
	else if (v == "cgroup") field = &Namespaces::cgroup;
	else fail_usage("--share " + v + ": expected user, network, uts, ipc or cgroup");
	return [field](Plan& p) { p.namespaces.*field = false; };
}

Edit cpu(const std::string& v) {
	uint64_t q = parse_cpu(v);
	return [q](Plan& p) {
		p.limits.cpu_period_us = 100000;
		p.limits.cpu_quota_us = q;
	};
}

// Every option with a value, in --help's order.
const std::vector<std::pair<const char*, Reader>>& value_options() {
	static const std::vector<std::pair<const char*, Reader>> options = {
		{"id", text(&Plan::id)},
		{"exec", text(&Plan::exec_path)},
		{"jail-root", text(&Plan::jail_root)},
		{"memory", size("--memory", [](Plan& p, uint64_t n) { p.limits.memory_bytes = n; })},
		{"cpu", cpu},
		{"pids", number("--pids", 1, 4194304, [](Plan& p, uint64_t n) { p.limits.pids_max = n; })},
		{"uid", number("--uid", 0, 0xfffffffe, [](Plan& p, uint64_t n) { p.uid = static_cast<uid_t>(n); })},
		{"gid", number("--gid", 0, 0xfffffffe, [](Plan& p, uint64_t n) { p.gid = static_cast<gid_t>(n); })},
		{"bind", [](const std::string& v) -> Edit { return [b = parse_bind(v)](Plan& p) { p.bind_mounts.push_back(b); }; }},
		{"fd", [](const std::string& v) -> Edit { return [f = parse_fd_spec(v)](Plan& p) { p.fds.push_back(f); }; }},
		{"keep-fd", number("--keep-fd", 0, 1 << 20, [](Plan& p, uint64_t n) { p.keep_fds.push_back(static_cast<int>(n)); })},
		{"env", [](const std::string& v) -> Edit { return [kv = parse_env(v)](Plan& p) { p.env.push_back(kv); }; }},
		{"workdir", text(&Plan::workdir)},
		{"hostname", text(&Plan::hostname)},
		{"max-fds", number("--max-fds", 3, 1 << 20, [](Plan& p, uint64_t n) { p.limits.max_fds = n; })},
		{"max-procs", number("--max-procs", 1, 4194304, [](Plan& p, uint64_t n) { p.limits.max_procs = n; })},
		{"max-file-size", size("--max-file-size", [](Plan& p, uint64_t n) { p.limits.max_file_bytes = n; })},
		{"parent-cgroup", text(&Plan::parent_cgroup)},
		{"share", share},
		{"stats-out", text(&Plan::stats_out)},
	};
	return options;
}

}  // namespace

Plan plan_from_args(int argc, char** argv) {
	std::string config;
	std::vector<Edit> edits;
	cli::Parser parser({"bencher-jailer", kHelp});
	parser.value("config", 0, [&](const std::string& v) { config = v; });
	for (auto& [name, read] : value_options())
		parser.value(name, 0, [&, read = read](const std::string& v) { edits.push_back(read(v)); });
	parser.flag("no-cgroup", 0, [&] { edits.push_back([](Plan& p) { p.use_cgroup = false; }); });
	std::vector<std::string> operands = parser.parse(argc, argv);

	Plan plan;
	if (!config.empty()) apply_json(plan, json::load_file(config, {1 << 20, 32}), config);
	for (auto& edit : edits) edit(plan);
	if (!plan.exec_path.empty()) {
		if (!operands.empty()) plan.exec_args = operands;
	} else if (!operands.empty()) {
		plan.exec_path = find_program(operands[0]);
		plan.exec_args.assign(operands.begin() + 1, operands.end());
	} else {
		fail_usage("no program to run: give --exec PATH or a command (see --help)");
	}
	return plan;
}

}  // namespace bencher::jail
