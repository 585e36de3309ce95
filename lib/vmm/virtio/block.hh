// block.hh: virtio-blk over the rootfs fd with three backends: rw (reads and
// writes go to the file), ro (VIRTIO_BLK_F_RO; writes fail) and cow (writes
// land in a private sparse anonymous overlay, sector by sector; the file
// never changes). Requests are parsed from hostile chains and bounded by the
// disk size.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/fd.hh"
#include "vmm/config.hh"
#include "vmm/virtio/mmio.hh"

namespace bencher::vmm::virtio {

class Disk {
public:
	using Mode = RootfsMode;
	// Takes the fd; the size is the file's, rounded down to whole sectors.
	Disk(UniqueFd fd, Mode mode);
	uint64_t sectors() const { return sectors_; }
	Mode mode() const { return mode_; }
	// Both return false on an I/O error. Ranges are in bytes, checked by the caller.
	bool read(uint64_t offset, const std::vector<iovec>& iov);
	bool write(uint64_t offset, const std::vector<iovec>& iov);
	bool flush();

private:
	UniqueFd fd_;
	Mode mode_;
	uint64_t sectors_ = 0;
	Mapping overlay_;                // cow: the private copy of written sectors
	std::vector<uint64_t> written_;  // cow: one bit per sector
	bool is_written(uint64_t s) const { return written_[s / 64] >> (s % 64) & 1; }
};

class Block : public Device {
public:
	static constexpr uint64_t kSectorSize = 512;
	explicit Block(Disk& disk) : disk_(disk) {}
	uint32_t device_id() const override { return 2; }
	uint64_t features() const override;
	uint16_t num_queues() const override { return 1; }
	void read_config(uint64_t offset, uint8_t* data, size_t len) override;
	void activate(Transport&) override {}
	void notify(Transport& t, uint16_t queue) override;
	void reset() override {}
	// Handles one request chain; returns the bytes written into it.
	uint32_t handle(const GuestMemory& mem, const Chain& c);

private:
	Disk& disk_;
};

}  // namespace bencher::vmm::virtio
