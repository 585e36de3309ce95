// serial.hh: the guest console. A 16550A UART on COM1 (0x3f8, IRQ 4) as the
// 8250 driver probes and drives it (scratch, FIFO and loopback checks, the
// THR-empty interrupt), and the console sink it feeds: buffered, bounded in
// size, and watching for the kernel's panic line so a panic reboot can be
// told from a clean one.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace bencher::vmm {

class Console {
public:
	// limit: bytes written to fd at most (the rest is counted and dropped).
	Console(int fd, uint64_t limit) : fd_(fd), limit_(limit) {}
	void put(uint8_t c);
	void flush();
	uint64_t bytes() const { return bytes_; }
	bool saw_panic() const { return panic_; }

private:
	void flush_locked();
	std::mutex mu_;
	int fd_;
	uint64_t limit_;
	uint64_t bytes_ = 0;
	uint64_t written_ = 0;
	std::string buf_;
	size_t match_ = 0;  // how much of the panic marker the tail matches
	bool panic_ = false;
};

class Serial {
public:
	static constexpr uint16_t kBase = 0x3f8;
	static constexpr uint32_t kIrq = 4;
	using IrqFn = std::function<void(int level)>;
	Serial(Console* out, IrqFn irq) : out_(out), irq_(std::move(irq)) {}
	void read(uint16_t offset, uint8_t* data);
	void write(uint16_t offset, uint8_t value);

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
