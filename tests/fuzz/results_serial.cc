// Fuzz target: the serial-fallback parser collect-results runs over the VM's
// console output (guest-controlled text), split at an input-chosen point.
// fuzz-sources: lib/results/serial.cc lib/results/codec.cc lib/common/error.cc
// fuzz-pkgs:
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "results/serial.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	std::string_view in(reinterpret_cast<const char*>(data), size);
	size_t total = 0;
	bencher::results::SerialParser p(bencher::results::SerialParser::Sink{
	    [&total](char, std::string_view payload) {
		    if (payload.size() > bencher::results::kSerialChunk) __builtin_trap();
		    total += payload.size();
	    },
	    [](std::string_view) {},
	});
	size_t cut = size ? data[0] % (size + 1) : 0;
	p.feed(in.substr(0, cut));
	p.feed(in.substr(cut));
	p.finish();
	if (total > size) __builtin_trap();
	return 0;
}
