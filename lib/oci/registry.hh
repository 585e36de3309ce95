// registry.hh: pulls an image over the OCI distribution API with libcurl:
// anonymous or bearer-token auth (the WWW-Authenticate challenge, repeated
// scope parameters, the POST token form as a fallback), plain http only with
// --insecure and only to loopback, and a blob cache keyed by digest so a
// second pull of the same image downloads nothing. Blobs land in the cache,
// verified, before anything reads them.
#pragma once

#include <memory>
#include <string>

#include "oci/image.hh"

namespace bencher::oci {

struct RegistryRef {
	std::string host;  // "127.0.0.1:5000", "registry-1.docker.io"
	std::string repo;  // "library/busybox"
	std::string tag;   // "latest" unless a digest is given
	std::string digest;
	std::string str() const;
};

// "HOST[:PORT]/REPO[:TAG|@DIGEST]" (docker:// already stripped); a name
// without a host ("busybox") means Docker Hub. Throws (exit 2) if malformed.
RegistryRef parse_registry_ref(const std::string& text);
// Does `text` look like HOST/REPO rather than a local path?
bool looks_like_registry_ref(const std::string& text);

struct RegistryOptions {
	bool insecure = false;   // plain http (loopback hosts only)
	std::string cache_dir;   // blobs/sha256/HEX beneath it
	bool progress = false;   // a progress line on stderr
};

// ${XDG_CACHE_HOME:-$HOME/.cache}/bencher-runner/blobs
std::string default_cache_dir();

std::unique_ptr<Source> open_registry(const RegistryRef& ref, const RegistryOptions& options);

// Parses `Bearer realm="...",service="...",scope="..."`; exposed for tests.
struct Challenge {
	std::string scheme, realm, service;
	std::vector<std::string> scopes;
};
Challenge parse_challenge(const std::string& header);

}  // namespace bencher::oci
