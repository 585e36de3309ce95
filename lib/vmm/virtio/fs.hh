// fs.hh: virtio-fs (virtio 1.2, 5.11) as a vhost-user-fs frontend. The VMM
// models only the device's face (id, features, config: the tag); its queues
// belong to a backend process (virtiofsd) that maps guest RAM and serves
// them itself. KVM signals the backend's kick eventfds on QueueNotify and
// the backend raises the device's interrupt through a KVM irqfd, so FUSE
// requests never pass through the VMM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/vhost/frontend.hh"
#include "vmm/virtio/mmio.hh"

namespace bencher::vmm::virtio {

class Fs : public Device {
public:
	static constexpr size_t kTagMax = 36;
	static constexpr uint32_t kDeviceId = 26;
	// The high-priority queue and one request queue: virtiofsd 7.2 serves one.
	static constexpr uint16_t kQueues = 2;

	// `mem` must be shared (MappedMemory with a memfd): the backend maps it.
	// The handshake with the backend happens here, during setup.
	Fs(std::string tag, vhost::Frontend& backend, const GuestMemory& mem);
	// The eventfds KVM signals on each queue's notify (ioeventfds), and the
	// one the backend writes to interrupt the guest (the device's irqfd).
	void connect(std::vector<int> kick_fds, int call_fd);
	const std::string& tag() const { return tag_; }

	uint32_t device_id() const override { return kDeviceId; }
	uint64_t features() const override;
	uint16_t num_queues() const override { return kQueues; }
	void read_config(uint64_t offset, uint8_t* data, size_t len) override;
	void activate(Transport& t) override;
	void notify(Transport& t, uint16_t queue) override;
	void reset() override;
	bool interrupts_from_backend() const override { return true; }
	std::string label() const override { return "tag " + tag_; }

private:
	std::string tag_;
	vhost::Frontend& be_;
	std::vector<vhost::MemRegion> regions_;
	std::vector<int> region_fds_;
	std::vector<int> kick_fds_;
	int call_fd_ = -1;
	std::vector<uint32_t> started_;  // rings the backend serves now
};

}  // namespace bencher::vmm::virtio
