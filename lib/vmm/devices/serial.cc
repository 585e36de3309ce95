// serial.cc: the 16550A of serial.hh. Registers as in kvmtool's
// hw/serial.c; no receive path (the guest gets no console input).
#include "vmm/devices/serial.hh"

namespace bencher::vmm {

namespace {
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
