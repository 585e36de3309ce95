// bus.hh: where a vCPU's port I/O and MMIO exits go. Devices register the
// [base, base + len) ranges they answer (kvmtool's kvm__register_pio,
// Firecracker's vstate/bus.rs) and the run loop finds the device by address
// instead of decoding ports itself. Ranges may not overlap; the bus is built
// during setup and only read afterwards, so vCPU threads share it unlocked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bencher::vmm {

class BusDevice {
public:
	virtual ~BusDevice() = default;
	// `base` is the range the access fell in (a device may register
	// several), `offset` the address within it.
	virtual void bus_read(uint64_t base, uint64_t offset, uint8_t* data, size_t len) = 0;
	virtual void bus_write(uint64_t base, uint64_t offset, const uint8_t* data, size_t len) = 0;
};

class Bus {
public:
	// `what` names the bus in errors ("port I/O", "MMIO"). Throws when the
	// range is empty, wraps around, or overlaps one registered before.
	explicit Bus(const char* what) : what_(what) {}
	void add(uint64_t base, uint64_t len, BusDevice& dev);
	// Both return false when no device answers at addr.
	bool read(uint64_t addr, uint8_t* data, size_t len) const;
	bool write(uint64_t addr, const uint8_t* data, size_t len) const;

private:
	struct Range {
		uint64_t base, len;
		BusDevice* dev;
	};
	std::vector<Range>::const_iterator after(uint64_t addr) const;
	const Range* find(uint64_t addr) const;
	const char* what_;
	std::vector<Range> ranges_;  // sorted by base
};

}  // namespace bencher::vmm
