// Fuzz target: what collect-results parses from ports 5002 and 5003: the
// exit record and the HMAC line (the first byte chooses which).
// fuzz-sources: lib/results/protocol.cc lib/results/codec.cc lib/common/error.cc lib/common/digest.cc
// fuzz-pkgs: libcrypto
#include <cstdint>
#include <string>

#include "common/digest.hh"
#include "common/error.hh"
#include "results/protocol.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	if (size == 0) return 0;
	std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
	try {
		if (data[0] & 1) {
			bencher::results::ExitRecord r = bencher::results::parse_exit(in);
			if (r.exit_code < 0 || r.exit_code > 255) __builtin_trap();
			bencher::results::parse_exit(bencher::results::format_exit(r));
		} else {
			std::string h = bencher::results::parse_hmac_line(in);
			bencher::results::ResultDigest d;
			d.add(5000, in);
			(void)bencher::equal_ct(h, d.hmac_hex("0123456789abcdef"));
		}
	} catch (const bencher::Error&) {
	}
	return 0;
}
