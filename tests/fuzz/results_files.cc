// Fuzz target: the output-file stream decoder collect-results runs over port
// 5005, fed in input-chosen pieces. The first byte picks the chunk size.
// fuzz-sources: lib/results/protocol.cc lib/results/codec.cc lib/common/error.cc lib/common/digest.cc
// fuzz-pkgs: libcrypto
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "results/protocol.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	if (size == 0) return 0;
	size_t step = data[0] % 64 + 1;
	std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
	uint64_t received = 0;
	bencher::results::FileStreamParser p({"/a", "/tmp/out.json", "/b"}, 4096, 6000,
	                                     bencher::results::FileStreamParser::Sink{
	                                         nullptr,
	                                         [&received](size_t, std::string_view d) { received += d.size(); },
	                                         nullptr,
	                                     });
	try {
		for (size_t i = 0; i < in.size(); i += step) p.feed(in.substr(i, step));
		p.finish();
	} catch (const bencher::Error&) {
	}
	if (received > 6000) __builtin_trap();
	return 0;
}
