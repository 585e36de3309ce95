// Fuzz target: the run config decoder bencher-init applies to what arrives
// on vsock port 5004 (and reads from /bencher/run.cfg in the serial fallback).
// fuzz-sources: lib/results/protocol.cc lib/results/codec.cc lib/common/error.cc lib/common/digest.cc
// fuzz-pkgs: libcrypto
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "results/protocol.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	std::string_view in(reinterpret_cast<const char*>(data), size);
	try {
		bencher::results::RunConfig c = bencher::results::decode_config(in);
		// Whatever decodes must encode back to the same bytes' meaning.
		bencher::results::RunConfig d = bencher::results::decode_config(bencher::results::encode_config(c));
		if (d.argv != c.argv || d.files != c.files || d.env != c.env || d.root_virtiofs != c.root_virtiofs ||
		    d.mounts != c.mounts)
			__builtin_trap();
	} catch (const bencher::Error&) {
	}
	return 0;
}
