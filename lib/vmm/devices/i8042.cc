// i8042.cc: the controller of i8042.hh, modelled on kvmtool's hw/i8042.c but
// with no input devices behind it: the keyboard acknowledges every command.
#include "vmm/devices/i8042.hh"

namespace bencher::vmm {

namespace {
enum : uint8_t {
	STATUS_OBF = 0x01,
	STATUS_SYS = 0x04,
	STATUS_CMD = 0x08,
	STATUS_UNLOCKED = 0x10,
	STATUS_AUXDATA = 0x20,
	CTR_KBDINT = 0x01,
	CTR_AUXINT = 0x02,
};
}  // namespace

void I8042::push(uint8_t b, bool aux) {
	out_.push_back({b, aux});
	if (out_.size() > 64) out_.pop_front();  // a guest spinning on commands stays bounded
	if (out_.size() == 1) {
		if (!aux && (ctr_ & CTR_KBDINT)) irq_(kKbdIrq);
		if (aux && (ctr_ & CTR_AUXINT)) irq_(kAuxIrq);
	}
}

uint8_t I8042::read(uint16_t port) {
	std::lock_guard lock(mu_);
	if (port == kCommand) {
		uint8_t s = STATUS_SYS | STATUS_UNLOCKED;
		if (!out_.empty()) s |= STATUS_OBF | (out_.front().aux ? STATUS_AUXDATA : 0);
		if (pending_cmd_) s |= STATUS_CMD;
		return s;
	}
	if (out_.empty()) return 0;
	uint8_t b = out_.front().byte;
	out_.pop_front();
	if (!out_.empty()) {
		bool aux = out_.front().aux;
		if (!aux && (ctr_ & CTR_KBDINT)) irq_(kKbdIrq);
		if (aux && (ctr_ & CTR_AUXINT)) irq_(kAuxIrq);
	}
	return b;
}

void I8042::kbd_command(uint8_t b) {
	if (kbd_pending_) {
		kbd_pending_ = 0;
		push(0xfa, false);
		return;
	}
	switch (b) {
	case 0xff:  // reset: ACK, then self-test passed
		push(0xfa, false);
		push(0xaa, false);
		break;
	case 0xf2:  // get ID: an MF2 keyboard
		push(0xfa, false);
		push(0xab, false);
		push(0x83, false);
		break;
	case 0xed:  // set LEDs
	case 0xf0:  // scan code set
	case 0xf3:  // typematic rate
		kbd_pending_ = b;
		push(0xfa, false);
		break;
	case 0xee:  // echo
		push(0xee, false);
		break;
	default:
		push(0xfa, false);
	}
}

void I8042::write(uint16_t port, uint8_t value) {
	bool reset = false;
	{
		std::lock_guard lock(mu_);
		if (port == kCommand) {
			pending_cmd_ = 0;
			switch (value) {
			case 0x20:  // read CTR
				push(ctr_, false);
				break;
			case 0x60:  // write CTR
			case 0xd1:  // write output port
			case 0xd2:  // write keyboard output buffer
			case 0xd3:  // write aux output buffer
			case 0xd4:  // write to aux device
				pending_cmd_ = value;
				break;
			case 0xa9:  // aux interface test: OK
			case 0xab:  // keyboard interface test: OK
				push(0x00, false);
				break;
			case 0xaa:  // controller self-test: OK
				push(0x55, false);
				break;
			case 0xd0:  // read output port: A20 on, not in reset
				push(0x03, false);
				break;
			case 0xfe:  // pulse the reset line
				reset = true;
				break;
			default:  // enable/disable kbd and aux, and the rest: no reply
				break;
			}
		} else {
			uint8_t cmd = pending_cmd_;
			pending_cmd_ = 0;
			switch (cmd) {
			case 0x60:
				ctr_ = value;
				break;
			case 0xd1:
				if (!(value & 1)) reset = true;
				break;
			case 0xd2:
				push(value, false);
				break;
			case 0xd3:
				push(value, true);
				break;
			case 0xd4:  // no mouse: the aux device acknowledges everything
				push(0xfa, true);
				break;
			default:
				kbd_command(value);
			}
		}
	}
	if (reset) reset_();
}

}  // namespace bencher::vmm
