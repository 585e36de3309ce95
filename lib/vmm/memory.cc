// memory.cc: guest RAM mappings for memory.hh.
#include "vmm/memory.hh"

#include <sys/mman.h>

namespace bencher::vmm {

MappedMemory::MappedMemory(uint64_t bytes) {
	uint64_t low = std::min(bytes, kLowLimit);
	auto map = [&](uint64_t gpa, uint64_t size) {
		Mapping m = Mapping::map(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0,
		                         "guest memory");
		madvise(m.data(), size, MADV_MERGEABLE);
		regions_.push_back({gpa, size, m.bytes()});
		maps_.push_back(std::move(m));
	};
	map(0, low);
	if (bytes > low) map(kHighStart, bytes - low);
}

}  // namespace bencher::vmm
