// fs.cc: the virtio-fs device of fs.hh: config space and the hand-over of
// the queues to the vhost-user backend at DRIVER_OK.
#include "vmm/virtio/fs.hh"

#include <unistd.h>

#include <cstring>

#include "common/error.hh"

namespace bencher::vmm::virtio {

namespace {
constexpr uint64_t kRingIndirectDesc = 1ull << 28;
constexpr uint64_t kRingEventIdx = 1ull << 29;
}  // namespace

Fs::Fs(std::string tag, vhost::Frontend& backend, const GuestMemory& mem) : tag_(std::move(tag)), be_(backend) {
	if (tag_.empty() || tag_.size() > kTagMax) fail(strprintf("virtio-fs: tag of %zu bytes (1-36)", tag_.size()));
	for (const auto& r : mem.regions()) {
		if (r.fd < 0) fail("virtio-fs " + tag_ + ": guest memory is not shared");
		regions_.push_back({r.gpa, r.size, reinterpret_cast<uint64_t>(r.host), r.fd_offset});
		region_fds_.push_back(r.fd);
	}
	be_.handshake(kQueues);
}

void Fs::connect(std::vector<int> kick_fds, int call_fd) {
	kick_fds_ = std::move(kick_fds);
	call_fd_ = call_fd;
}

// Ring features the backend implements and our transport passes through;
// VERSION_1 the transport adds. Nothing device-specific (no notification
// queue, no DAX window on virtio-mmio).
uint64_t Fs::features() const { return be_.features() & (kRingIndirectDesc | kRingEventIdx); }

// struct virtio_fs_config: u8 tag[36] (NUL-padded, not terminated at 36),
// le32 num_request_queues.
void Fs::read_config(uint64_t offset, uint8_t* data, size_t len) {
	uint8_t cfg[kTagMax + 4] = {};
	std::memcpy(cfg, tag_.data(), tag_.size());
	uint32_t nreq = kQueues - 1;
	std::memcpy(cfg + kTagMax, &nreq, 4);
	if (offset >= sizeof cfg) return;
	std::memcpy(data, cfg + offset, std::min<size_t>(len, sizeof cfg - offset));
}

// The driver has set up its rings: the backend gets the features, guest
// memory and each ready ring, with ring addresses in our address space
// (the mem table tells it how those map to its own).
void Fs::activate(Transport& t) {
	if (kick_fds_.size() != kQueues || call_fd_ < 0) fail("virtio-fs " + tag_ + ": eventfds not connected");
	be_.set_features(t.driver_features());
	be_.set_mem_table(regions_, region_fds_);
	for (uint16_t i = 0; i < kQueues; i++) {
		Queue& q = t.queue(i);
		if (!q.ready) continue;
		vhost::Frontend::Ring r;
		r.index = i;
		r.size = q.size;
		auto host = [&](uint64_t gpa, uint64_t len) { return reinterpret_cast<uint64_t>(t.mem().ptr(gpa, len)); };
		r.addr.desc = host(q.desc_addr, 16ull * q.size);
		r.addr.avail = host(q.avail_addr, 6 + 2ull * q.size);
		r.addr.used = host(q.used_addr, 6 + 8ull * q.size);
		if (!r.addr.desc || !r.addr.avail || !r.addr.used) continue;  // ready only if valid: not reached
		r.kick_fd = kick_fds_[i];
		r.call_fd = call_fd_;
		be_.start_ring(r);
		started_.push_back(i);
	}
}

// A QueueNotify write that reached the VMM instead of KVM's ioeventfd.
void Fs::notify(Transport&, uint16_t queue) {
	if (queue >= kick_fds_.size()) return;
	uint64_t one = 1;
	(void)!::write(kick_fds_[queue], &one, sizeof one);
}

// The driver reset the device: the backend lets go of the rings, so that a
// new DRIVER_OK can hand them over again.
void Fs::reset() {
	std::vector<uint32_t> rings = std::move(started_);
	started_.clear();
	for (uint32_t i : rings) be_.stop_ring(i);
}

}  // namespace bencher::vmm::virtio
