// Fuzz target: bencher-jailer's JSON config (bencher-jailer.json(5)) through
// the typed reader and the plan checks, as --config reads it.
// fuzz-sources: lib/jail/plan.cc lib/common/json.cc lib/common/error.cc lib/common/size.cc lib/common/fd.cc
// fuzz-pkgs: jansson
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "common/json.hh"
#include "jail/plan.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	std::string_view in(reinterpret_cast<const char*>(data), size);
	try {
		bencher::jail::Plan p;
		bencher::jail::apply_json(p, bencher::json::parse(in, "jail.json", {1 << 20, 32}), "jail.json");
		bencher::jail::validate(p);
		// A validated plan keeps its promises.
		for (auto& b : p.bind_mounts) {
			if (b.dest.empty() || b.dest[0] != '/') __builtin_trap();
			std::string d = b.dest + "/";
			if (d.find("/../") != std::string::npos || d.find("/./") != std::string::npos ||
			    d.find("//") != std::string::npos)
				__builtin_trap();
		}
		if (p.id.empty() || !bencher::jail::valid_id(p.id)) __builtin_trap();
		for (auto& f : p.fds)
			if (f.fd < 0 || static_cast<uint64_t>(f.fd) >= p.limits.max_fds) __builtin_trap();
	} catch (const bencher::Error&) {
	}
	return 0;
}
