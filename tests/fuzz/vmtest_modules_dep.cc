// Fuzz target: modules.dep and modules.builtin as bencher-vmtest reads them
// from a kernel's modules directory (a user's --modules DIR, an unpacked
// package), resolved for the guest's modules. The input's first line is
// modules.builtin, the rest modules.dep.
// fuzz-sources: lib/vmtest/kmod.cc lib/common/error.cc lib/common/fd.cc
// fuzz-pkgs: libarchive
#include <cstdint>
#include <set>
#include <string>

#include "common/error.hh"
#include "vmtest/kmod.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	std::string_view in(reinterpret_cast<const char*>(data), size);
	size_t nl = in.find('\n');
	std::string_view builtin = nl == std::string_view::npos ? in : in.substr(0, nl);
	std::string_view dep = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
	try {
		bencher::vmtest::ModulePlan p = bencher::vmtest::resolve_modules(bencher::vmtest::kGuestModules, dep, builtin);
		// Each module once, and nothing but modules.
		std::set<std::string> seen;
		for (const auto& m : p.load)
			if (!seen.insert(m).second || (!m.ends_with(".ko") && m.find(".ko.") == std::string::npos)) __builtin_trap();
	} catch (const bencher::Error&) {
	}
	return 0;
}
