// mmio.hh: the virtio-mmio (version 2) transport, Firecracker's split:
// a Device model (features, queues, config space, what a notification does)
// behind a transport that owns the register layout and the interrupt. The
// guest finds each device through a virtio_mmio.device= command-line entry
// or, with ACPI, its LNRO0005 device in the DSDT (acpi/tables.hh).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "vmm/bus.hh"
#include "vmm/memory.hh"
#include "vmm/virtio/queue.hh"

namespace bencher::vmm::virtio {

constexpr uint64_t kFeatureVersion1 = 1ull << 32;

class Transport;

class Device {
public:
	virtual ~Device() = default;
	virtual uint32_t device_id() const = 0;
	virtual uint64_t features() const = 0;
	virtual uint16_t num_queues() const = 0;
	virtual void read_config(uint64_t offset, uint8_t* data, size_t len) = 0;
	// Called with the transport's lock held once the driver says DRIVER_OK.
	virtual void activate(Transport& t) = 0;
	// A queue notification, with the transport's lock held.
	virtual void notify(Transport& t, uint16_t queue) = 0;
	// The driver reset the device: forget every queue-related state.
	virtual void reset() = 0;
	// A vhost-user device's backend raises its interrupt through an irqfd,
	// bypassing signal_used(): the transport then shows the used-buffer bit
	// in InterruptStatus whenever the device is live, since the guest's
	// handler looks at its queues only when that bit is set.
	virtual bool interrupts_from_backend() const { return false; }
	// Tells devices of one type apart in a stuck run's report ("tag share").
	virtual std::string label() const { return {}; }
};

// On the MMIO bus, kSize bytes at its base.
class Transport : public BusDevice {
public:
	static constexpr uint64_t kSize = 0x1000;
	using IrqFn = std::function<void()>;  // raise the device's interrupt (an edge)
	Transport(Device& dev, const GuestMemory& mem, IrqFn irq);

	// Register access from a vCPU thread.
	void read(uint64_t offset, uint8_t* data, size_t len);
	void write(uint64_t offset, const uint8_t* data, size_t len);
	void bus_read(uint64_t, uint64_t offset, uint8_t* data, size_t len) override { read(offset, data, len); }
	void bus_write(uint64_t, uint64_t offset, const uint8_t* data, size_t len) override {
		write(offset, data, len);
	}
	// A queue notification from the event loop (ioeventfd) or a register write.
	void notify(uint16_t queue);
	// Where a QueueNotify register write goes instead of notify(), so that
	// device work always runs on the event loop's thread (vm.cc points it at
	// the queue's ioeventfd).
	std::function<void(uint16_t)> on_notify_write;

	// For devices (lock held): the queues, guest memory, and the interrupt
	// after used buffers were added.
	Queue& queue(uint16_t i) { return queues_[i]; }
	const GuestMemory& mem() const { return mem_; }
	void signal_used(uint16_t queue);
	bool active() const { return status_ & 4; }
	uint64_t driver_features() const { return driver_features_; }
	std::mutex& lock() { return mu_; }
	// The device's and every queue's state, for a stuck run's report.
	std::string describe();
	// The kernel command-line entry for a device at `base` on `irq`.
	static std::string cmdline_entry(uint64_t base, uint32_t irq);

private:
	void reset();
	std::mutex mu_;
	Device& dev_;
	const GuestMemory& mem_;
	IrqFn irq_;
	std::vector<Queue> queues_;
	uint32_t dev_feat_sel_ = 0, drv_feat_sel_ = 0, queue_sel_ = 0;
	uint64_t driver_features_ = 0;
	uint32_t status_ = 0;
	uint32_t interrupt_status_ = 0;
};

}  // namespace bencher::vmm::virtio
