// oci_manifest: fuzzes the parsers of image JSON and registry strings
// (lib/oci/image, lib/oci/registry): the input is tried as a manifest or
// index (with platform selection), an image config, a WWW-Authenticate
// challenge and an image reference. Errors are fine; crashes are not.
// fuzz-sources: lib/oci/image.cc lib/oci/registry.cc lib/oci/blob.cc lib/oci/flatten.cc lib/common/error.cc lib/common/digest.cc lib/common/fd.cc lib/common/json.cc lib/common/log.cc lib/common/size.cc
// fuzz-pkgs: jansson libcrypto libcurl libarchive
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "oci/image.hh"
#include "oci/registry.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	using namespace bencher::oci;
	std::string in(reinterpret_cast<const char*>(data), size);
	try {
		Manifest m = parse_manifest(in, "fuzz");
		if (m.is_index) select_platform(m, {"linux", "amd64", ""}, "fuzz");
		for (const auto& l : m.layers) check_layer_media_type(l, "fuzz");
	} catch (const bencher::Error&) {
	}
	try {
		ResolvedImage img;
		img.config = parse_config(in, "fuzz");
		(void)bencher::json::dump(config_summary(img));
	} catch (const bencher::Error&) {
	}
	(void)parse_challenge(in);
	try {
		(void)parse_registry_ref(in);
	} catch (const bencher::Error&) {
	}
	return 0;
}
