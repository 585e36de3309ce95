// runjson.cc: strict reader of run.json (see runjson.hh).
#include "results/runjson.hh"

#include "common/error.hh"
#include "common/json.hh"

namespace bencher::results {

namespace {

// "root": {"virtiofs": "TAG"} and "mounts": [{"tag", "path", "writable"}];
// the values themselves are checked by validate().
void load_shares(json::Object& o, RunConfig& c, const std::string& path) {
	if (auto root = o.opt_object("root")) {
		c.root_virtiofs = root->str("virtiofs");
		if (c.root_virtiofs.empty()) fail(path + ": root.virtiofs: empty");
		root->finish();
	}
	auto mounts = o.opt_array("mounts");
	if (!mounts) return;
	if (mounts->size() > kMaxMounts) fail(strprintf("%s: more than %zu entries", mounts->path().c_str(), kMaxMounts));
	for (size_t i = 0; i < mounts->size(); i++) {
		json::Object m = mounts->object_at(i);
		Mount mount;
		mount.tag = m.str("tag");
		mount.path = m.str("path");
		mount.writable = m.opt_boolean("writable").value_or(false);
		m.finish();
		c.mounts.push_back(std::move(mount));
	}
}

}  // namespace

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
	load_shares(o, c, path);
	o.finish();
	try {
		validate(c);
	} catch (const Error& e) {
		fail(path + ": " + e.what());
	}
	return c;
}

}  // namespace bencher::results
