// plan.cc: Docker's run-time rules over an image config (see plan.hh). The
// references are `docker run` (--entrypoint, --env, --workdir, --user) and
// the Dockerfile's ENTRYPOINT/CMD table: the command is Entrypoint + Cmd, an
// image's shell form is already ["/bin/sh", "-c", STRING] in its config.
#include "runner/plan.hh"

#include "common/error.hh"

namespace bencher::runner {

namespace {

// null and missing are the same to us: oci-unpack writes null for unset.
bool present(json::Object& o, const char* key) {
	if (!o.has(key)) {
		o.ignore(key);
		return false;
	}
	return !json_is_null(o.value(key).get());
}

std::optional<std::vector<std::string>> nullable_strings(json::Object& o, const char* key) {
	if (!present(o, key)) return std::nullopt;
	return o.strings(key);
}

std::string nullable_str(json::Object& o, const char* key) { return present(o, key) ? o.str(key) : ""; }

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

// The image's Env, minus what the command line sets, then the command line's
// in its order; a name the command line repeats keeps its place and takes
// the later value, as in docker run.
std::vector<std::string> merge_env(const std::vector<std::string>& image, const std::vector<std::string>& cli) {
	std::vector<std::string> cli_env;
	for (const auto& kv : cli) {
		bool replaced = false;
		for (auto& have : cli_env)
			if (env_key(have) == env_key(kv)) {
				have = kv;
				replaced = true;
			}
		if (!replaced) cli_env.push_back(kv);
	}
	std::vector<std::string> env;
	for (const auto& kv : image) {
		bool overridden = false;
		for (const auto& c : cli_env) overridden = overridden || env_key(c) == env_key(kv);
		if (!overridden) env.push_back(kv);
	}
	env.insert(env.end(), cli_env.begin(), cli_env.end());
	return env;
}

// Entrypoint + Cmd. --entrypoint replaces the image's Entrypoint and drops
// its Cmd; an empty --entrypoint clears the Entrypoint; --cmd replaces Cmd.
std::vector<std::string> plan_argv(const ImageConfig& image, const Options& o) {
	std::vector<std::string> argv;
	if (o.entrypoint) {
		if (!o.entrypoint->empty()) argv.push_back(*o.entrypoint);
	} else if (image.entrypoint) {
		argv = *image.entrypoint;
	}
	if (o.cmd)
		argv.insert(argv.end(), o.cmd->begin(), o.cmd->end());
	else if (!o.entrypoint && image.cmd)
		argv.insert(argv.end(), image.cmd->begin(), image.cmd->end());
	return argv;
}

json::Value string_array(const std::vector<std::string>& v) {
	json::Value a = json::Value::array();
	for (const auto& s : v) a.append(json::Value::string(s));
	return a;
}

}  // namespace

ImageConfig parse_image_config(std::string_view text, const std::string& source) {
	json::Limits limits;
	limits.max_bytes = kMaxImageConfigBytes;
	limits.max_depth = 8;
	json::Object o = json::root_object(json::parse(text, source, limits), source);
	ImageConfig c;
	c.entrypoint = nullable_strings(o, "entrypoint");
	c.cmd = nullable_strings(o, "cmd");
	if (auto env = nullable_strings(o, "env")) c.env = std::move(*env);
	c.working_dir = nullable_str(o, "working_dir");
	c.user = nullable_str(o, "user");
	c.digest = nullable_str(o, "image_digest");
	if (c.digest.empty()) c.digest = nullable_str(o, "config_digest");
	if (c.digest.empty()) fail(source + ": no image digest in oci-unpack's config", kExitRunner);
	return c;
}

RunConfig plan_run(const ImageConfig& image, const Options& o) {
	RunConfig c;
	c.argv = plan_argv(image, o);
	if (c.argv.empty()) fail(o.image + ": no command: the image has no Entrypoint or Cmd (use --cmd)", kExitRunner);
	c.env = merge_env(image.env, o.env);
	c.workdir = !o.workdir.empty() ? o.workdir : !image.working_dir.empty() ? image.working_dir : "/";
	// Docker refuses to create a container whose working directory is
	// relative, whoever set it.
	if (c.workdir[0] != '/')
		fail(o.image + ": the image's WorkingDir '" + c.workdir + "' is not an absolute path", kExitRunner);
	c.user = !o.user.empty() ? o.user : image.user;
	c.files = o.outputs;
	c.max_output_bytes = o.max_output_bytes;
	return c;
}

json::Value run_json(const RunConfig& c) {
	json::Value r = json::Value::object();
	r.set("argv", string_array(c.argv));
	r.set("env", string_array(c.env));
	r.set("workdir", json::Value::string(c.workdir));
	r.set("files", string_array(c.files));
	r.set("max_output_bytes", json::Value::integer(static_cast<int64_t>(c.max_output_bytes)));
	if (!c.user.empty()) r.set("user", json::Value::string(c.user));
	return r;
}

json::Value dry_run_json(const RunConfig& c, const std::string& rootfs, const std::string& kernel) {
	json::Value d = json::Value::object();
	d.set("run", run_json(c));
	d.set("rootfs", json::Value::string(rootfs));
	d.set("kernel", json::Value::string(kernel));
	return d;
}

}  // namespace bencher::runner
