// queue.hh: a split virtqueue read straight out of guest memory. The guest
// owns the rings, so every index, address and length is hostile until
// checked: a chain that loops, leaves guest memory, is longer than the queue
// or uses a feature we did not offer comes back as bad, and the device
// returns it unused instead of acting on it.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/memory.hh"

namespace bencher::vmm::virtio {

struct Desc {
	uint64_t addr;
	uint32_t len;
	bool write;  // device-writable
};

// A validated descriptor chain: every descriptor lies inside guest memory.
struct Chain {
	uint16_t head = 0;
	std::vector<Desc> descs;
	uint64_t readable_bytes() const;
	uint64_t writable_bytes() const;
};

// Copies up to len bytes from the chain's device-readable part, skipping
// `skip` bytes; returns the count copied.
size_t chain_read(const GuestMemory& mem, const Chain& c, uint64_t skip, void* out, size_t len);
// Copies into the device-writable part, after `skip` writable bytes.
size_t chain_write(const GuestMemory& mem, const Chain& c, uint64_t skip, const void* in, size_t len);
// The host iovecs for [skip, skip+len) of the readable (write=false) or
// writable part; returns the bytes covered.
size_t chain_iovecs(const GuestMemory& mem, const Chain& c, bool writable, uint64_t skip, uint64_t len,
                    std::vector<iovec>& out);

class Queue {
public:
	static constexpr uint16_t kMaxSize = 256;
	enum class Pop { empty, ok, bad };

	// Set by the transport from the guest's register writes.
	uint16_t size = kMaxSize;
	bool ready = false;
	uint64_t desc_addr = 0, avail_addr = 0, used_addr = 0;

	void reset();
	// Whether the rings the guest gave lie in guest memory with a valid size.
	bool valid(const GuestMemory& mem) const;
	// Takes the next available chain. On Pop::bad, `out.head` is still the
	// head to return (unless the head itself was out of range: then the
	// queue is broken and the caller stops using it, see broken()).
	Pop pop(const GuestMemory& mem, Chain& out);
	// Gives back the chain pop() returned last (the device found no use for it yet).
	void undo_pop() { last_avail_--; }
	void push_used(const GuestMemory& mem, uint16_t head, uint32_t len);
	// Whether the guest asked not to be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT).
	bool interrupt_suppressed(const GuestMemory& mem) const;
	bool broken() const { return broken_; }
	// Asks the guest not to kick while the device is draining the queue
	// anyway (VIRTQ_USED_F_NO_NOTIFY); a hint the guest may ignore.
	void set_no_notify(const GuestMemory& mem, bool on);
	// Whether the guest has made buffers available that pop() has not taken.
	bool has_avail(const GuestMemory& mem) const;
	// Both sides' indices and flags, for a stuck run's report:
	// "avail 12 taken 12 flags 0x1, used 12 given 12 flags 0x0".
	std::string describe(const GuestMemory& mem) const;

private:
	uint16_t last_avail_ = 0;
	uint16_t next_used_ = 0;
	bool broken_ = false;
};

}  // namespace bencher::vmm::virtio
