// Fuzz target: bencher-jailer's ELF reader (PT_INTERP, DT_NEEDED, RPATH,
// RUNPATH), which reads every offset of the program it is asked to jail.
// fuzz-sources: lib/jail/elf.cc lib/common/error.cc lib/common/fd.cc
// fuzz-pkgs:
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "jail/elf.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	std::string_view in(reinterpret_cast<const char*>(data), size);
	try {
		bencher::jail::ElfInfo i = bencher::jail::parse_elf_bytes(in, "fuzz");
		// Whatever is accepted stays within the parser's bounds.
		if (i.needed.size() > 1024 || i.interp.size() > 4096) __builtin_trap();
		for (auto& n : i.needed)
			if (n.empty() || n.size() > 4096) __builtin_trap();
	} catch (const bencher::Error&) {
	}
	return 0;
}
