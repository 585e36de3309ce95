// queue.cc: the split virtqueue of queue.hh (virtio 1.1, 2.6).
#include "vmm/virtio/queue.hh"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

namespace bencher::vmm::virtio {

namespace {
// The ring layouts (virtio 1.1, 2.6); <linux/virtio_ring.h> is not C++-clean.
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
struct vring_used_elem {
	uint32_t id, len;
};
constexpr uint16_t VRING_DESC_F_NEXT = 1, VRING_DESC_F_WRITE = 2, VRING_DESC_F_INDIRECT = 4;
constexpr uint16_t VRING_AVAIL_F_NO_INTERRUPT = 1;
}  // namespace

uint64_t Chain::readable_bytes() const {
	uint64_t n = 0;
	for (const auto& d : descs)
		if (!d.write) n += d.len;
	return n;
}

uint64_t Chain::writable_bytes() const {
	uint64_t n = 0;
	for (const auto& d : descs)
		if (d.write) n += d.len;
	return n;
}

size_t chain_iovecs(const GuestMemory& mem, const Chain& c, bool writable, uint64_t skip, uint64_t len,
                    std::vector<iovec>& out) {
	size_t got = 0;
	for (const auto& d : c.descs) {
		if (d.write != writable) continue;
		if (skip >= d.len) {
			skip -= d.len;
			continue;
		}
		uint64_t n = std::min<uint64_t>(d.len - skip, len - got);
		if (n == 0) break;
		out.push_back({mem.ptr(d.addr + skip, n), n});
		got += n;
		skip = 0;
		if (got == len) break;
	}
	return got;
}

size_t chain_read(const GuestMemory& mem, const Chain& c, uint64_t skip, void* out, size_t len) {
	std::vector<iovec> iov;
	size_t n = chain_iovecs(mem, c, false, skip, len, iov);
	auto* p = static_cast<uint8_t*>(out);
	for (const auto& v : iov) {
		std::memcpy(p, v.iov_base, v.iov_len);
		p += v.iov_len;
	}
	return n;
}

size_t chain_write(const GuestMemory& mem, const Chain& c, uint64_t skip, const void* in, size_t len) {
	std::vector<iovec> iov;
	size_t n = chain_iovecs(mem, c, true, skip, len, iov);
	const auto* p = static_cast<const uint8_t*>(in);
	for (const auto& v : iov) {
		std::memcpy(v.iov_base, p, v.iov_len);
		p += v.iov_len;
	}
	return n;
}

void Queue::reset() {
	size = kMaxSize;
	ready = false;
	desc_addr = avail_addr = used_addr = 0;
	last_avail_ = next_used_ = 0;
	broken_ = false;
}

bool Queue::valid(const GuestMemory& mem) const {
	if (size == 0 || size > kMaxSize || (size & (size - 1))) return false;
	if ((desc_addr & 15) || (avail_addr & 1) || (used_addr & 3)) return false;
	return mem.contains(desc_addr, 16ull * size) && mem.contains(avail_addr, 6 + 2ull * size) &&
	       mem.contains(used_addr, 6 + 8ull * size);
}

namespace {
uint16_t load16(const GuestMemory& mem, uint64_t gpa) {
	return __atomic_load_n(reinterpret_cast<uint16_t*>(mem.ptr(gpa, 2)), __ATOMIC_ACQUIRE);
}
}  // namespace

Queue::Pop Queue::pop(const GuestMemory& mem, Chain& out) {
	out.descs.clear();
	if (!ready || broken_ || !valid(mem)) return Pop::empty;
	uint16_t avail_idx = load16(mem, avail_addr + 2);
	if (avail_idx == last_avail_) return Pop::empty;
	// More entries than the ring holds means the guest corrupted its index.
	if (static_cast<uint16_t>(avail_idx - last_avail_) > size) {
		broken_ = true;
		return Pop::empty;
	}
	std::atomic_thread_fence(std::memory_order_acquire);
	uint16_t head = mem.load<uint16_t>(avail_addr + 4 + 2ull * (last_avail_ % size));
	last_avail_++;
	out.head = head;
	if (head >= size) {
		broken_ = true;
		return Pop::empty;
	}
	uint16_t idx = head;
	for (unsigned count = 0;; count++) {
		if (count >= size) return Pop::bad;  // a loop, or longer than the queue
		vring_desc d;
		mem.read(desc_addr + 16ull * idx, &d, sizeof d);
		if (d.flags & VRING_DESC_F_INDIRECT) return Pop::bad;  // not offered
		if (!mem.contains(d.addr, d.len)) return Pop::bad;
		bool write = d.flags & VRING_DESC_F_WRITE;
		// Readable descriptors come first (virtio 1.1, 2.6.4.2).
		if (!write && !out.descs.empty() && out.descs.back().write) return Pop::bad;
		out.descs.push_back({d.addr, d.len, write});
		if (!(d.flags & VRING_DESC_F_NEXT)) break;
		if (d.next >= size) return Pop::bad;
		idx = d.next;
	}
	return Pop::ok;
}

void Queue::push_used(const GuestMemory& mem, uint16_t head, uint32_t len) {
	if (!ready || !valid(mem)) return;
	vring_used_elem e{head, len};
	mem.store(used_addr + 4 + 8ull * (next_used_ % size), e);
	next_used_++;
	std::atomic_thread_fence(std::memory_order_release);
	__atomic_store_n(reinterpret_cast<uint16_t*>(mem.ptr(used_addr + 2, 2)), next_used_, __ATOMIC_RELEASE);
}

void Queue::set_no_notify(const GuestMemory& mem, bool on) {
	if (!ready || !valid(mem)) return;
	__atomic_store_n(reinterpret_cast<uint16_t*>(mem.ptr(used_addr, 2)), static_cast<uint16_t>(on ? 1 : 0),
	                 __ATOMIC_RELEASE);
	// The flag must be visible before we look at the avail index again.
	std::atomic_thread_fence(std::memory_order_seq_cst);
}

bool Queue::has_avail(const GuestMemory& mem) const {
	if (!ready || broken_ || !valid(mem)) return false;
	return load16(mem, avail_addr + 2) != last_avail_;
}

bool Queue::interrupt_suppressed(const GuestMemory& mem) const {
	if (!valid(mem)) return false;
	// The used index we just stored must be visible before we read the
	// flag (virtio 1.2, 2.7.7.2; vhost's smp_mb in vhost_notify): a driver
	// that clears VRING_AVAIL_F_NO_INTERRUPT and then rechecks the used
	// ring could otherwise miss our entry while we read its stale flag,
	// and both sides wait (x86 reorders a store with a later load).
	std::atomic_thread_fence(std::memory_order_seq_cst);
	return load16(mem, avail_addr) & VRING_AVAIL_F_NO_INTERRUPT;
}

std::string Queue::describe(const GuestMemory& mem) const {
	if (!ready) return "not ready";
	if (!valid(mem)) return "invalid rings";
	char b[128];
	snprintf(b, sizeof b, "avail %u taken %u flags 0x%x, used %u given %u flags 0x%x%s", load16(mem, avail_addr + 2),
	         last_avail_, load16(mem, avail_addr), load16(mem, used_addr + 2), next_used_, load16(mem, used_addr),
	         broken_ ? ", broken" : "");
	return b;
}

}  // namespace bencher::vmm::virtio
