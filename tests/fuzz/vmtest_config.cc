// vmtest_config: fuzzes the reading of vmtest.toml (lib/vmtest/config):
// tomlplusplus's parse and every check after it. Errors are fine; crashes,
// hangs and unbounded memory are not.
// fuzz-sources: lib/vmtest/config.cc lib/results/protocol.cc lib/results/codec.cc lib/common/error.cc lib/common/fd.cc lib/common/size.cc lib/common/log.cc lib/common/digest.cc
// fuzz-pkgs: tomlplusplus libcrypto
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "vmtest/config.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	std::string in(reinterpret_cast<const char*>(data), size);
	try {
		bencher::vmtest::Config c = bencher::vmtest::parse_config(in, "/fuzz/vmtest.toml");
		for (const auto& t : c.targets)
			for (const auto& m : t.mounts)
				if (!bencher::vmtest::valid_guest_path(m.guest_path)) __builtin_trap();
	} catch (const bencher::Error&) {
	}
	return 0;
}
