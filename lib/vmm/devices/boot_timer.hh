// boot_timer.hh: the boot timer port. The guest's init writes kInitStarted
// when it starts (bencher-init, the test init), which gives the report its
// boot_to_init_ms; kShutdownRequested just before it asks the kernel to
// reboot, so the reset that follows is reported as a requested power-off.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "vmm/bus.hh"

namespace bencher::vmm {

class BootTimer : public BusDevice {
public:
	static constexpr uint16_t kPort = 0x440;
	static constexpr uint8_t kInitStarted = 0x7b;
	static constexpr uint8_t kShutdownRequested = 0x7c;
	using Clock = uint64_t (*)();  // nanoseconds

	explicit BootTimer(Clock clock) : clock_(clock) {}
	void bus_read(uint64_t, uint64_t, uint8_t* data, size_t len) override;
	void bus_write(uint64_t, uint64_t, const uint8_t* data, size_t) override { mark(data[0]); }
	void mark(uint8_t value);
	// When init first said it started, on the clock.
	std::optional<uint64_t> init_ns() const;
	bool shutdown_requested() const { return shutdown_requested_; }

private:
	Clock clock_;
	std::atomic<uint64_t> init_ns_{0};
	std::atomic<bool> shutdown_requested_{false};
};

}  // namespace bencher::vmm
