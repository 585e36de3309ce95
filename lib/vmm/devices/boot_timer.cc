// boot_timer.cc: the marks of boot_timer.hh.
#include "vmm/devices/boot_timer.hh"

#include <cstring>

namespace bencher::vmm {

void BootTimer::bus_read(uint64_t, uint64_t, uint8_t* data, size_t len) {
	std::memset(data, 0xff, len);  // write-only: reads as no device
}

void BootTimer::mark(uint8_t value) {
	if (value == kInitStarted) {
		uint64_t zero = 0;  // the first mark counts
		init_ns_.compare_exchange_strong(zero, clock_());
	} else if (value == kShutdownRequested) {
		shutdown_requested_ = true;
	}
}

std::optional<uint64_t> BootTimer::init_ns() const {
	uint64_t t = init_ns_.load();
	if (!t) return std::nullopt;
	return t;
}

}  // namespace bencher::vmm
