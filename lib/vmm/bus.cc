// bus.cc: the range table of bus.hh.
#include "vmm/bus.hh"

#include <algorithm>

#include "common/error.hh"

namespace bencher::vmm {

// The first range that starts above addr.
std::vector<Bus::Range>::const_iterator Bus::after(uint64_t addr) const {
	return std::upper_bound(ranges_.begin(), ranges_.end(), addr,
	                        [](uint64_t a, const Range& r) { return a < r.base; });
}

void Bus::add(uint64_t base, uint64_t len, BusDevice& dev) {
	if (len == 0 || base + len < base)
		fail(strprintf("%s: bad range 0x%llx+0x%llx", what_, (unsigned long long)base, (unsigned long long)len));
	auto it = after(base);
	bool under_prev = it != ranges_.begin() && std::prev(it)->base + std::prev(it)->len > base;
	bool over_next = it != ranges_.end() && base + len > it->base;
	if (under_prev || over_next)
		fail(strprintf("%s: range 0x%llx+0x%llx overlaps another device's", what_, (unsigned long long)base,
		               (unsigned long long)len));
	ranges_.insert(it, Range{base, len, &dev});
}

const Bus::Range* Bus::find(uint64_t addr) const {
	auto it = after(addr);
	if (it == ranges_.begin()) return nullptr;
	--it;
	return addr - it->base < it->len ? &*it : nullptr;
}

bool Bus::read(uint64_t addr, uint8_t* data, size_t len) const {
	const Range* r = find(addr);
	if (!r) return false;
	r->dev->bus_read(r->base, addr - r->base, data, len);
	return true;
}

bool Bus::write(uint64_t addr, const uint8_t* data, size_t len) const {
	const Range* r = find(addr);
	if (!r) return false;
	r->dev->bus_write(r->base, addr - r->base, data, len);
	return true;
}

}  // namespace bencher::vmm
