// serial.cc: the 16550A and console sink of serial.hh. Registers as in
// kvmtool's hw/serial.c; no receive path (the guest gets no console input).
#include "vmm/devices/serial.hh"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bencher::vmm {

namespace {
constexpr char kPanicMarker[] = "Kernel panic - not syncing";
constexpr size_t kPanicLen = sizeof kPanicMarker - 1;

enum : uint8_t {
	UART_IER_THRI = 0x02,
	UART_IIR_NO_INT = 0x01,
	UART_IIR_THRI = 0x02,
	UART_IIR_FIFO = 0xc0,
	UART_LCR_DLAB = 0x80,
	UART_LSR_TEMT = 0x40,
	UART_LSR_THRE = 0x20,
	UART_MCR_LOOP = 0x10,
	UART_MSR_DCD = 0x80,
	UART_MSR_RI = 0x40,
	UART_MSR_DSR = 0x20,
	UART_MSR_CTS = 0x10,
};
}  // namespace

void Console::put(uint8_t c) {
	std::lock_guard lock(mu_);
	bytes_++;
	// The marker has no repeated prefix, so a mismatch restarts the match.
	if (static_cast<char>(c) == kPanicMarker[match_]) {
		if (++match_ == kPanicLen) {
			panic_ = true;
			match_ = 0;
		}
	} else {
		match_ = static_cast<char>(c) == kPanicMarker[0] ? 1 : 0;
	}
	if (written_ + buf_.size() >= limit_) return;
	buf_.push_back(static_cast<char>(c));
	if (c == '\n' || buf_.size() >= 4096) flush_locked();
}

void Console::flush() {
	std::lock_guard lock(mu_);
	flush_locked();
}

void Console::flush_locked() {
	size_t off = 0;
	while (off < buf_.size()) {
		ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) {
			// A console that stops taking output must not stop the guest.
			limit_ = written_;
			break;
		}
		off += static_cast<size_t>(n);
		written_ += static_cast<uint64_t>(n);
	}
	buf_.clear();
}

void Serial::update_irq() {
	int level = (ier_ & UART_IER_THRI) && thri_pending_ ? 1 : 0;
	if (level != level_) {
		level_ = level;
		irq_(level);
	}
}

void Serial::read(uint16_t offset, uint8_t* data) {
	std::lock_guard lock(mu_);
	switch (offset) {
	case 0:
		*data = (lcr_ & UART_LCR_DLAB) ? dll_ : 0;
		break;
	case 1:
		*data = (lcr_ & UART_LCR_DLAB) ? dlm_ : ier_;
		break;
	case 2: {
		uint8_t iir = (ier_ & UART_IER_THRI) && thri_pending_ ? UART_IIR_THRI : UART_IIR_NO_INT;
		if (fcr_ & 1) iir |= UART_IIR_FIFO;
		thri_pending_ = false;
		*data = iir;
		break;
	}
	case 3:
		*data = lcr_;
		break;
	case 4:
		*data = mcr_;
		break;
	case 5:
		*data = UART_LSR_TEMT | UART_LSR_THRE;
		break;
	case 6:
		if (mcr_ & UART_MCR_LOOP) {
			// Loopback: the modem outputs come back as inputs.
			*data = static_cast<uint8_t>(((mcr_ & 0x0c) << 4) | ((mcr_ & 0x02) << 3) | ((mcr_ & 0x01) << 5));
		} else {
			*data = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
		}
		break;
	case 7:
		*data = scr_;
		break;
	default:
		*data = 0xff;
	}
	update_irq();
}

void Serial::write(uint16_t offset, uint8_t value) {
	bool out = false;
	{
		std::lock_guard lock(mu_);
		switch (offset) {
		case 0:
			if (lcr_ & UART_LCR_DLAB) {
				dll_ = value;
			} else if (!(mcr_ & UART_MCR_LOOP)) {
				out = true;
				thri_pending_ = true;
			}
			break;
		case 1:
			if (lcr_ & UART_LCR_DLAB) {
				dlm_ = value;
			} else {
				// Enabling THRI with the THR empty raises it at once.
				if ((value & UART_IER_THRI) && !(ier_ & UART_IER_THRI)) thri_pending_ = true;
				ier_ = value & 0x0f;
			}
			break;
		case 2:
			fcr_ = value;
			break;
		case 3:
			lcr_ = value;
			break;
		case 4:
			mcr_ = value & 0x1f;
			break;
		case 7:
			scr_ = value;
			break;
		default:
			break;
		}
		update_irq();
	}
	if (out && out_) out_->put(value);
}

}  // namespace bencher::vmm
