// memory.hh: guest physical memory as the devices and loaders see it. Every
// access by guest-supplied address goes through ptr(), which bounds-checks
// against the regions, so device code runs in unit tests over a fake memory
// and a hostile address is an error, never a host access outside the guest.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::vmm {

// One contiguous range of guest physical memory backed by host memory.
struct MemRegion {
	uint64_t gpa = 0;
	uint64_t size = 0;
	uint8_t* host = nullptr;
	// Shared memory only: the memfd behind the region and the region's
	// offset in it, for a vhost-user backend to map the same pages.
	int fd = -1;
	uint64_t fd_offset = 0;
};

class GuestMemory {
public:
	GuestMemory() = default;
	explicit GuestMemory(std::vector<MemRegion> regions) : regions_(std::move(regions)) {}
	virtual ~GuestMemory() = default;

	const std::vector<MemRegion>& regions() const { return regions_; }
	// The host address of [gpa, gpa+len), or nullptr when any of it lies
	// outside one region (a range may not straddle two regions).
	uint8_t* ptr(uint64_t gpa, uint64_t len) const {
		for (const auto& r : regions_) {
			if (gpa >= r.gpa && gpa - r.gpa <= r.size && len <= r.size - (gpa - r.gpa))
				return r.host + (gpa - r.gpa);
		}
		return nullptr;
	}
	bool contains(uint64_t gpa, uint64_t len) const { return ptr(gpa, len) != nullptr; }

	void read(uint64_t gpa, void* out, size_t len) const { std::memcpy(out, checked(gpa, len), len); }
	void write(uint64_t gpa, const void* in, size_t len) const { std::memcpy(checked(gpa, len), in, len); }
	template <typename T>
	T load(uint64_t gpa) const {
		T v;
		read(gpa, &v, sizeof v);
		return v;
	}
	template <typename T>
	void store(uint64_t gpa, const T& v) const {
		write(gpa, &v, sizeof v);
	}
	// The end of the RAM that lies below 4 GiB and of all RAM.
	uint64_t end() const {
		uint64_t e = 0;
		for (const auto& r : regions_) e = std::max(e, r.gpa + r.size);
		return e;
	}

protected:
	uint8_t* checked(uint64_t gpa, uint64_t len) const {
		uint8_t* p = ptr(gpa, len);
		if (!p) fail(strprintf("guest address 0x%llx+0x%llx is outside guest memory",
		                       (unsigned long long)gpa, (unsigned long long)len));
		return p;
	}
	std::vector<MemRegion> regions_;
};

// Guest RAM as host mappings, split around the 32-bit MMIO hole: private
// anonymous memory, or with `shared` one memfd mapped MAP_SHARED, which a
// vhost-user backend (virtiofsd) maps too, to read and write the guest's
// buffers itself.
class MappedMemory : public GuestMemory {
public:
	static constexpr uint64_t kLowLimit = 0xc0000000ull;  // RAM below the MMIO hole
	static constexpr uint64_t kHighStart = 0x100000000ull;
	static constexpr uint64_t kHugeAlign = 2ull << 20;
	explicit MappedMemory(uint64_t bytes, bool shared = false);
	bool shared() const { return memfd_.valid(); }

	// Puts `filesz` bytes of the file `fd` (also mapped read-only at `src`)
	// from `offset` at `gpa`, zeros up to `memsz`: the whole pages in
	// between are mapped from the file copy-on-write, not copied, when file
	// and guest offsets agree modulo the page size. The guest then runs the
	// host's page cache (one copy for every VM booting that kernel, nothing
	// to copy or fault in up front), a page it writes becomes its own, and
	// nothing reaches the file. Shared memory is always copied into: a
	// private file mapping would hide those pages from the backend, which
	// must see the bytes the guest sees. Checked like write(). Returns the
	// bytes mapped rather than copied.
	uint64_t place(const uint8_t* src, int fd, uint64_t gpa, uint64_t offset, uint64_t filesz, uint64_t memsz);

private:
	UniqueFd memfd_;
	std::vector<Mapping> maps_;
};

}  // namespace bencher::vmm
