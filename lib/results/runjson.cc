// runjson.cc: strict reader of run.json (see runjson.hh).
#include "results/runjson.hh"

#include "common/error.hh"
#include "common/json.hh"

namespace bencher::results {

RunConfig load_run_json(const std::string& path) {
	json::Limits limits;
	limits.max_bytes = kMaxConfigBytes;
	json::Object o = json::root_object(json::load_file(path, limits), path);
	RunConfig c;
	c.argv = o.strings("argv");
	if (auto v = o.opt_strings("env")) c.env = *v;
	if (auto v = o.opt_str("workdir")) c.workdir = *v;
	if (auto v = o.opt_str("user")) c.user = *v;
	if (auto v = o.opt_strings("files")) c.files = *v;
	if (auto v = o.opt_str("cgroup")) c.cgroup = *v;
	auto limit = [&](const char* key, uint64_t& dst) {
		if (auto v = o.opt_integer(key, 0, static_cast<int64_t>(kMaxLimit))) dst = static_cast<uint64_t>(*v);
	};
	limit("max_output_bytes", c.max_output_bytes);
	limit("max_file_bytes", c.max_file_bytes);
	limit("max_files_total_bytes", c.max_files_total_bytes);
	o.finish();
	try {
		validate(c);
	} catch (const Error& e) {
		fail(path + ": " + e.what());
	}
	return c;
}

}  // namespace bencher::results
