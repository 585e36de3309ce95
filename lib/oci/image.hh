// image.hh: the JSON documents of an image (index, manifest, config), parsed
// into typed structs with bounded sizes, platform selection, and the
// --config-out summary the runner reads. The sources (local layouts and
// archives in source.hh, registries in registry.hh) supply the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hh"
#include "oci/blob.hh"
#include "oci/estimate.hh"
#include "oci/flatten.hh"

namespace bencher::oci {

constexpr size_t kMaxManifestBytes = 4u << 20;
constexpr size_t kMaxConfigBytes = 8u << 20;

namespace media {
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
}  // namespace media

struct Platform {
	std::string os, architecture, variant;
	std::string str() const;
};
// The host's platform in OCI terms (linux/amd64, linux/arm64/v8, ...).
Platform host_platform();
// "OS/ARCH[/VARIANT]"; throws a usage error.
Platform parse_platform(const std::string& text);

struct Descriptor {
	std::string media_type;
	std::string digest;
	int64_t size = -1;
	std::optional<Platform> platform;
	std::string ref_name;  // org.opencontainers.image.ref.name
};

struct Manifest {
	bool is_index = false;
	std::vector<Descriptor> manifests;  // index
	Descriptor config;                  // manifest
	std::vector<Descriptor> layers;     // manifest
};

// Parses an index or an image manifest (OCI or Docker schema 2). `what`
// names the document in errors.
Manifest parse_manifest(std::string_view text, const std::string& what);
// Picks the entry of an index for `want` (variant optional), exit 3 if none.
const Descriptor& select_platform(const Manifest& index, const Platform& want, const std::string& what);
// Throws for layer media types we cannot read.
void check_layer_media_type(const Descriptor& d, const std::string& what);

struct ImageConfig {
	std::optional<std::vector<std::string>> entrypoint, cmd;
	std::vector<std::string> env;
	std::string working_dir, user;
	Platform platform;
	std::vector<std::string> diff_ids;
};
ImageConfig parse_config(std::string_view text, const std::string& what);

// An image resolved to the point where its layers can be streamed.
struct ResolvedImage {
	std::string image_digest;  // manifest digest; empty for docker-save without one
	std::string config_digest;
	ImageConfig config;
	std::vector<Layer> layers;
	std::optional<TreeEstimate> estimate;  // with --estimate
};

// {entrypoint, cmd, env, working_dir, user, image_digest, config_digest,
//  platform{os, architecture, variant}[, estimate{bytes, entries}]}:
// documented in oci-unpack(1).
json::Value config_summary(const ResolvedImage& image);

// Where images come from.
class Source {
public:
	virtual ~Source() = default;
	virtual ResolvedImage resolve(const Platform& want) = 0;
};

// The part every OCI-shaped source shares: given a way to fetch a manifest
// (verified) and to open a blob (raw), walk index -> manifest -> config ->
// layers.
class ManifestStore {
public:
	virtual ~ManifestStore() = default;
	virtual std::string fetch_manifest(const Descriptor& d) = 0;          // verified bytes
	virtual std::unique_ptr<Reader> open_blob(const Descriptor& d) = 0;  // raw bytes
};
ResolvedImage resolve_from(ManifestStore& store, std::string root_bytes, std::string root_digest,
			   const Platform& want, const std::string& what);

}  // namespace bencher::oci
