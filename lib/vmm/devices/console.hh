// console.hh: where the guest's serial console goes: a sink that buffers
// lines to the console fd, keeps at most a set number of bytes (a flooding
// guest cannot fill the disk), and watches for the kernel's panic line so a
// panic reboot can be told from a clean one. The UART (serial.hh) feeds it.
#pragma once

#include <cstdint>
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

}  // namespace bencher::vmm
