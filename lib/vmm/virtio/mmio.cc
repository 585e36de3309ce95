// mmio.cc: the register file of mmio.hh (virtio 1.1, 4.2.2).
#include "vmm/virtio/mmio.hh"

#include <cstring>

#include "common/error.hh"

namespace bencher::vmm::virtio {

namespace {
enum : uint64_t {
	kMagic = 0x000,
	kVersion = 0x004,
	kDeviceId = 0x008,
	kVendorId = 0x00c,
	kDeviceFeatures = 0x010,
	kDeviceFeaturesSel = 0x014,
	kDriverFeatures = 0x020,
	kDriverFeaturesSel = 0x024,
	kQueueSel = 0x030,
	kQueueNumMax = 0x034,
	kQueueNum = 0x038,
	kQueueReady = 0x044,
	kQueueNotify = 0x050,
	kInterruptStatus = 0x060,
	kInterruptAck = 0x064,
	kStatus = 0x070,
	kQueueDescLow = 0x080,
	kQueueDescHigh = 0x084,
	kQueueAvailLow = 0x090,
	kQueueAvailHigh = 0x094,
	kQueueUsedLow = 0x0a0,
	kQueueUsedHigh = 0x0a4,
	kShmLenLow = 0x0b0,
	kShmLenHigh = 0x0b4,
	kShmBaseLow = 0x0b8,
	kShmBaseHigh = 0x0bc,
	kConfigGeneration = 0x0fc,
	kConfig = 0x100,
};
constexpr uint32_t kStatusDriverOk = 4, kStatusFailed = 128;

void set_low(uint64_t& v, uint32_t x) { v = (v & ~0xffffffffull) | x; }
void set_high(uint64_t& v, uint32_t x) { v = (v & 0xffffffffull) | (static_cast<uint64_t>(x) << 32); }
}  // namespace

Transport::Transport(Device& dev, const GuestMemory& mem, IrqFn irq)
    : dev_(dev), mem_(mem), irq_(std::move(irq)), queues_(dev.num_queues()) {}

std::string Transport::cmdline_entry(uint64_t base, uint32_t irq) {
	return strprintf("virtio_mmio.device=4K@0x%llx:%u", (unsigned long long)base, irq);
}

void Transport::reset() {
	for (auto& q : queues_) q.reset();
	dev_feat_sel_ = drv_feat_sel_ = queue_sel_ = 0;
	driver_features_ = 0;
	status_ = 0;
	interrupt_status_ = 0;
	dev_.reset();
}

void Transport::read(uint64_t offset, uint8_t* data, size_t len) {
	std::lock_guard lock(mu_);
	if (offset >= kConfig) {
		std::memset(data, 0, len);
		dev_.read_config(offset - kConfig, data, len);
		return;
	}
	uint32_t v = 0;
	if (len == 4) {
		Queue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
		switch (offset) {
		case kMagic: v = 0x74726976; break;  // "virt"
		case kVersion: v = 2; break;
		case kDeviceId: v = dev_.device_id(); break;
		case kVendorId: v = 0x554d4551; break;
		case kDeviceFeatures: {
			uint64_t f = dev_.features() | kFeatureVersion1;
			v = dev_feat_sel_ == 0 ? static_cast<uint32_t>(f) : dev_feat_sel_ == 1 ? static_cast<uint32_t>(f >> 32) : 0;
			break;
		}
		case kQueueNumMax: v = q ? Queue::kMaxSize : 0; break;
		case kQueueReady: v = q && q->ready; break;
		case kInterruptStatus:
			v = interrupt_status_ | (dev_.interrupts_from_backend() && (status_ & kStatusDriverOk) ? 1 : 0);
			break;
		case kStatus: v = status_; break;
		case kConfigGeneration: v = 0; break;
		// No shared memory regions: a length of ~0 says "none" (without it
		// a kernel with FUSE_DAX takes virtio-fs for a DAX device and fails
		// to reserve its window).
		case kShmLenLow:
		case kShmLenHigh:
		case kShmBaseLow:
		case kShmBaseHigh: v = 0xffffffff; break;
		default: break;
		}
	}
	std::memcpy(data, &v, std::min<size_t>(len, 4));
}

void Transport::write(uint64_t offset, const uint8_t* data, size_t len) {
	if (offset >= kConfig) return;  // no writable config in our devices
	if (len != 4) return;
	uint32_t v;
	std::memcpy(&v, data, 4);
	if (offset == kQueueNotify) {
		if (on_notify_write)
			on_notify_write(static_cast<uint16_t>(v));
		else
			notify(static_cast<uint16_t>(v));
		return;
	}
	std::lock_guard lock(mu_);
	Queue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
	// Queue registers may change only while the queue is not ready.
	bool q_writable = q && !q->ready && !(status_ & kStatusDriverOk);
	switch (offset) {
	case kDeviceFeaturesSel: dev_feat_sel_ = v; break;
	case kDriverFeaturesSel: drv_feat_sel_ = v; break;
	case kDriverFeatures:
		if (status_ & kStatusDriverOk) break;
		if (drv_feat_sel_ == 0) set_low(driver_features_, v);
		else if (drv_feat_sel_ == 1) set_high(driver_features_, v);
		driver_features_ &= dev_.features() | kFeatureVersion1;
		break;
	case kQueueSel: queue_sel_ = v; break;
	case kQueueNum:
		if (q_writable) q->size = static_cast<uint16_t>(std::min<uint32_t>(v, 0xffff));
		break;
	case kQueueReady:
		if (q) q->ready = v == 1 && q->valid(mem_);
		break;
	case kQueueDescLow: if (q_writable) set_low(q->desc_addr, v); break;
	case kQueueDescHigh: if (q_writable) set_high(q->desc_addr, v); break;
	case kQueueAvailLow: if (q_writable) set_low(q->avail_addr, v); break;
	case kQueueAvailHigh: if (q_writable) set_high(q->avail_addr, v); break;
	case kQueueUsedLow: if (q_writable) set_low(q->used_addr, v); break;
	case kQueueUsedHigh: if (q_writable) set_high(q->used_addr, v); break;
	case kInterruptAck: interrupt_status_ &= ~v; break;
	case kStatus:
		if (v == 0) {
			reset();
			break;
		}
		if ((v & kStatusDriverOk) && !(status_ & kStatusDriverOk)) {
			status_ = v;
			if (!(driver_features_ & kFeatureVersion1)) {
				status_ |= kStatusFailed;  // we speak only virtio 1
				break;
			}
			dev_.activate(*this);
			break;
		}
		status_ = v;
		break;
	default:
		break;
	}
}

void Transport::notify(uint16_t queue) {
	std::lock_guard lock(mu_);
	if (!(status_ & kStatusDriverOk) || (status_ & kStatusFailed) || queue >= queues_.size()) return;
	dev_.notify(*this, queue);
}

std::string Transport::describe() {
	std::lock_guard lock(mu_);
	std::string label = dev_.label();
	std::string out = strprintf("virtio device %u%s%s%s: status 0x%x, interrupt 0x%x", dev_.device_id(),
	                            label.empty() ? "" : " (", label.c_str(), label.empty() ? "" : ")", status_,
	                            interrupt_status_);
	for (size_t q = 0; q < queues_.size(); q++) out += strprintf("; q%zu %s", q, queues_[q].describe(mem_).c_str());
	return out;
}

void Transport::signal_used(uint16_t queue) {
	if (queues_[queue].interrupt_suppressed(mem_)) return;
	interrupt_status_ |= 1;
	irq_();
}

}  // namespace bencher::vmm::virtio
