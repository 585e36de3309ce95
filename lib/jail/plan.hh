// plan.hh: everything bencher-jailer will do, as one typed struct. The command
// line and the JSON config (bencher-jailer.json(5)) both produce a Plan; the
// setup steps in jail.cc act only on a validated Plan, never on raw input.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.hh"

namespace bencher::jail {

struct BindMount {
	std::string source;
	std::string dest;  // absolute, inside the jail
	bool read_only = false;
};

// A file opened before jailing and handed to the program as fd `fd`.
struct FdSpec {
	std::string path;
	int fd = -1;
	bool read_write = false;
};

struct Namespaces {
	bool user = true, pid = true, mount = true, network = true, uts = true, ipc = true, cgroup = true;
};

struct Limits {
	std::optional<uint64_t> cpu_quota_us;  // with cpu_period_us: the cgroup CPU bandwidth
	uint64_t cpu_period_us = 100000;
	std::optional<uint64_t> memory_bytes;
	std::optional<uint64_t> pids_max;      // cgroup pids.max
	uint64_t max_fds = 1024;               // RLIMIT_NOFILE
	uint64_t max_procs = 64;               // RLIMIT_NPROC
	std::optional<uint64_t> max_file_bytes;  // RLIMIT_FSIZE (unlimited when unset)
};

struct Plan {
	std::string id;
	std::string exec_path;
	std::vector<std::string> exec_args;  // argv[1..]; argv[0] is exec_path
	std::string jail_root;               // empty: a temporary directory
	uid_t uid = 65534;
	gid_t gid = 65534;
	Limits limits;
	Namespaces namespaces;
	std::vector<BindMount> bind_mounts;
	std::vector<FdSpec> fds;
	std::vector<int> keep_fds;
	std::string workdir = "/";
	std::vector<std::pair<std::string, std::string>> env;
	std::string hostname;       // empty: the id
	bool use_cgroup = true;
	std::string parent_cgroup;  // empty: the jailer's own cgroup
	std::string stats_out;      // empty: none
};

// Reads a config document into `plan` (fields absent keep their value).
// Unknown keys and wrong types are errors naming the field.
void apply_json(Plan& plan, const json::Value& doc, const std::string& source);

// Command-line forms, each throwing a usage error naming the option.
BindMount parse_bind(const std::string& spec);      // SRC:DEST[:ro|:rw]
FdSpec parse_fd_spec(const std::string& spec);      // PATH:N[:rw]
uint64_t parse_cpu(const std::string& text);        // "0.5" CPUs -> quota us per 100 ms
std::pair<std::string, std::string> parse_env(const std::string& text);  // K=V

// Checks the whole plan for consistency (absolute paths, fd numbers, id
// syntax, namespaces the jail cannot do without) and fills in defaults.
void validate(Plan& plan);

// True for a name usable as a cgroup directory and hostname.
bool valid_id(const std::string& id);

}  // namespace bencher::jail
