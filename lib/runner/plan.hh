// plan.hh: from oci-unpack's image config summary (--config-out) and the
// runner's options to the run config bencher-init is given (run.json, read by
// collect-results --config), by Docker's rules for Entrypoint, Cmd, Env,
// WorkingDir and User. The image's JSON is untrusted: bounded and type-checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hh"
#include "runner/options.hh"

namespace bencher::runner {

constexpr size_t kMaxImageConfigBytes = 8u << 20;

// The part of oci-unpack's summary the plan needs. Absent (null) and empty
// arrays differ: Docker falls back to the image's Cmd only when it is unset.
struct ImageConfig {
	std::optional<std::vector<std::string>> entrypoint;
	std::optional<std::vector<std::string>> cmd;
	std::vector<std::string> env;
	std::string working_dir;
	std::string user;
	// What names the image: its manifest digest, or for a classic
	// docker-save image (no manifest digest) its config's.
	std::string digest;
};

// `source` names the text in errors. Keys it does not know are left alone, so
// oci-unpack may say more than the plan needs.
ImageConfig parse_image_config(std::string_view text, const std::string& source);

struct RunConfig {
	std::vector<std::string> argv;
	std::vector<std::string> env;
	std::string workdir;
	std::string user;  // "" = root
	std::vector<std::string> files;
	uint64_t max_output_bytes = 0;
};

// Docker's rules. Throws (exit 125) when there is nothing to run.
RunConfig plan_run(const ImageConfig& image, const Options& o);

// run.json as collect-results reads it; keys in a fixed order.
json::Value run_json(const RunConfig& c);

// What --dry-run prints: {"run": RUN, "rootfs": PATH, "kernel": PATH}.
json::Value dry_run_json(const RunConfig& c, const std::string& rootfs, const std::string& kernel);

}  // namespace bencher::runner
