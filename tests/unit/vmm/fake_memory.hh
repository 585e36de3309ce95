// fake_memory.hh: guest memory for unit tests, a zeroed host buffer at
// guest address 0 (or wherever the test puts it), so loaders and devices
// run against hostile layouts without KVM.
#pragma once

#include <vector>

#include "vmm/memory.hh"

namespace bencher::vmm::test {

class FakeMemory : public GuestMemory {
public:
	explicit FakeMemory(uint64_t size, uint64_t gpa = 0) : buf_(size) {
		regions_.push_back({gpa, size, buf_.data()});
	}
	// A second region, e.g. above 4 GiB.
	void add(uint64_t gpa, uint64_t size) {
		extra_.emplace_back(size);
		regions_.push_back({gpa, size, extra_.back().data()});
	}

private:
	std::vector<uint8_t> buf_;
	std::vector<std::vector<uint8_t>> extra_;
};

}  // namespace bencher::vmm::test
