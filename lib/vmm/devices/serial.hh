// serial.hh: the guest console's UART, a 16550A on COM1 (0x3f8, IRQ 4) as
// the 8250 driver probes and drives it (scratch, FIFO and loopback checks,
// the THR-empty interrupt). What the guest writes goes to a Console
// (console.hh); the UART sits on the port I/O bus.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "vmm/bus.hh"
#include "vmm/devices/console.hh"

namespace bencher::vmm {

class Serial : public BusDevice {
public:
	static constexpr uint16_t kBase = 0x3f8, kPorts = 8;
	static constexpr uint32_t kIrq = 4;
	using IrqFn = std::function<void(int level)>;
	Serial(Console* out, IrqFn irq) : out_(out), irq_(std::move(irq)) {}
	void read(uint16_t offset, uint8_t* data);
	void write(uint16_t offset, uint8_t value);
	void bus_read(uint64_t, uint64_t offset, uint8_t* data, size_t) override {
		read(static_cast<uint16_t>(offset), data);
	}
	void bus_write(uint64_t, uint64_t offset, const uint8_t* data, size_t) override {
		write(static_cast<uint16_t>(offset), data[0]);
	}

private:
	void update_irq();
	std::mutex mu_;
	Console* out_;
	IrqFn irq_;
	uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0x08, scr_ = 0, fcr_ = 0, dll_ = 0x0c, dlm_ = 0;
	bool thri_pending_ = false;  // THR empty interrupt, cleared by reading IIR
	int level_ = 0;
};

}  // namespace bencher::vmm
