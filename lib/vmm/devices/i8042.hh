// i8042.hh: just enough of the PS/2 controller (ports 0x60/0x64) for the
// guest's i8042 driver to probe it without waiting out a timeout (every
// command that expects a byte back gets one at once), and the reset line:
// command 0xfe (reboot=k) or pulsing the output port's reset bit ends the
// VM as a guest reboot.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "vmm/bus.hh"

namespace bencher::vmm {

// On the port I/O bus at kData and kCommand, one port each.
class I8042 : public BusDevice {
public:
	static constexpr uint16_t kData = 0x60, kCommand = 0x64;
	static constexpr uint32_t kKbdIrq = 1, kAuxIrq = 12;
	using IrqFn = std::function<void(uint32_t irq)>;  // raise an edge
	using ResetFn = std::function<void()>;
	I8042(IrqFn irq, ResetFn reset) : irq_(std::move(irq)), reset_(std::move(reset)) {}
	uint8_t read(uint16_t port);
	void write(uint16_t port, uint8_t value);
	void bus_read(uint64_t base, uint64_t, uint8_t* data, size_t) override {
		data[0] = read(static_cast<uint16_t>(base));
	}
	void bus_write(uint64_t base, uint64_t, const uint8_t* data, size_t) override {
		write(static_cast<uint16_t>(base), data[0]);
	}

private:
	void push(uint8_t b, bool aux);
	void kbd_command(uint8_t b);
	std::mutex mu_;
	IrqFn irq_;
	ResetFn reset_;
	struct Out {
		uint8_t byte;
		bool aux;
	};
	std::deque<Out> out_;
	uint8_t ctr_ = 0x47;  // kbd+aux interrupts on, translation, system flag
	uint8_t pending_cmd_ = 0;  // a controller command waiting for its data byte
	uint8_t kbd_pending_ = 0;  // a keyboard command waiting for its argument
};

}  // namespace bencher::vmm
