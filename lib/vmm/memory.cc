// memory.cc: guest RAM mappings for memory.hh.
#include "vmm/memory.hh"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace bencher::vmm {

MappedMemory::MappedMemory(uint64_t bytes, bool shared) {
	uint64_t low = std::min(bytes, kLowLimit);
	if (shared) {
		memfd_.reset(memfd_create("bencher-vmm guest RAM", MFD_CLOEXEC));
		if (!memfd_) fail_errno("guest memory: memfd_create");
		if (ftruncate(memfd_.get(), static_cast<off_t>(bytes)) < 0) fail_errno("guest memory: ftruncate");
	}
	// Each region's offset in the memfd: the low part first.
	auto map = [&](uint64_t gpa, uint64_t size, uint64_t fd_offset) {
		// Host address congruent to the guest address modulo 2 MiB (as
		// QEMU aligns its RAM): only then can the host back guest RAM with
		// transparent huge pages and KVM map them as 2 MiB pages, and each
		// 4 KiB nested page fault costs dearly (most of all under a
		// nested, emulated hypervisor).
		size_t span = size + kHugeAlign;
		void* res = mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (res == MAP_FAILED) fail_errno("guest memory");
		uintptr_t base = reinterpret_cast<uintptr_t>(res);
		uintptr_t at = base + ((gpa - base) & (kHugeAlign - 1));
		void* p = shared ? mmap(reinterpret_cast<void*>(at), size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		                        memfd_.get(), static_cast<off_t>(fd_offset))
		                 : mmap(reinterpret_cast<void*>(at), size, PROT_READ | PROT_WRITE,
		                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			munmap(res, span);
			errno = e;
			fail_errno("guest memory");
		}
		// The reservation's slop on either side goes back.
		if (at > base) munmap(res, at - base);
		if (base + span > at + size) munmap(reinterpret_cast<void*>(at + size), base + span - (at + size));
		Mapping m(p, size);
		// KSM merges private pages only. Shared memory is shmem, backed by
		// 4 KiB pages unless the host allows huge ones on request
		// (transparent_hugepage/shmem_enabled: advise): then ask.
		madvise(m.data(), size, shared ? MADV_HUGEPAGE : MADV_MERGEABLE);
		regions_.push_back({gpa, size, m.bytes(), memfd_.get(), fd_offset});
		maps_.push_back(std::move(m));
	};
	map(0, low, 0);
	if (bytes > low) map(kHighStart, bytes - low, low);
}

uint64_t MappedMemory::place(const uint8_t* src, int fd, uint64_t gpa, uint64_t offset, uint64_t filesz,
                             uint64_t memsz) {
	if (filesz > memsz) fail("guest memory: placement larger than its range");
	uint8_t* dst = checked(gpa, memsz);
	const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
	uintptr_t d = reinterpret_cast<uintptr_t>(dst);
	uintptr_t first = (d + page - 1) & ~(page - 1);  // whole pages backed by the file
	uintptr_t last = (d + filesz) & ~(page - 1);
	uint64_t mapped = 0;
	if (!shared() && (d - offset) % page == 0 && last > first) {
		void* p = mmap(reinterpret_cast<void*>(first), last - first, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		               fd, static_cast<off_t>(offset + (first - d)));
		if (p == MAP_FAILED) fail_errno("guest memory: mapping the image");
		madvise(p, last - first, MADV_MERGEABLE);
		mapped = last - first;
		std::memcpy(dst, src + offset, first - d);
		std::memcpy(reinterpret_cast<uint8_t*>(last), src + offset + (last - d), d + filesz - last);
	} else {
		std::memcpy(dst, src + offset, filesz);
	}
	std::memset(dst + filesz, 0, memsz - filesz);
	return mapped;
}

}  // namespace bencher::vmm
