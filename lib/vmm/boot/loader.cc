// loader.cc: the ELF and bzImage loaders of loader.hh. Hostile images
// (truncated, overlapping or out-of-memory segments, a stray entry point)
// are rejected with an error naming what is wrong.
#include "vmm/boot/loader.hh"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/error.hh"

namespace bencher::vmm::boot {

namespace {
bool add_overflows(uint64_t a, uint64_t b) { return a + b < a; }

void put(const uint8_t* data, const GuestMemory& mem, const Place& place, uint64_t gpa, uint64_t offset,
         uint64_t filesz, uint64_t memsz) {
	if (place) return place(gpa, offset, filesz, memsz);
	uint8_t* dst = mem.ptr(gpa, memsz);
	std::memcpy(dst, data + offset, filesz);
	std::memset(dst + filesz, 0, memsz - filesz);
}
}  // namespace

LoadedKernel load_elf(const uint8_t* data, size_t len, const GuestMemory& mem, const Place& place) {
	Elf64_Ehdr eh;
	if (len < sizeof eh) fail("kernel: ELF header truncated");
	std::memcpy(&eh, data, sizeof eh);
	if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) fail("kernel: not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		fail("kernel: not a 64-bit little-endian ELF");
	if (eh.e_machine != EM_X86_64) fail("kernel: ELF is not for x86-64");
	if (eh.e_type != ET_EXEC) fail("kernel: ELF is not an executable");
	if (eh.e_phentsize != sizeof(Elf64_Phdr)) fail("kernel: bad ELF program header size");
	if (eh.e_phnum == 0 || eh.e_phnum > 64) fail("kernel: bad ELF program header count");
	if (eh.e_phoff > len || eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		fail("kernel: ELF program headers truncated");

	struct Seg {
		uint64_t paddr, filesz, memsz, offset;
	};
	std::vector<Seg> segs;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		std::memcpy(&ph, data + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD) continue;
		if (ph.p_filesz > ph.p_memsz) fail(strprintf("kernel: ELF segment %u: file size exceeds memory size", i));
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			fail(strprintf("kernel: ELF segment %u: truncated", i));
		if (add_overflows(ph.p_paddr, ph.p_memsz) || ph.p_paddr < kHimemStart || !mem.contains(ph.p_paddr, ph.p_memsz))
			fail(strprintf("kernel: ELF segment %u: 0x%llx+0x%llx is outside guest memory", i,
			               (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz));
		segs.push_back({ph.p_paddr, ph.p_filesz, ph.p_memsz, ph.p_offset});
	}
	if (segs.empty()) fail("kernel: ELF has no loadable segment");
	std::sort(segs.begin(), segs.end(), [](const Seg& a, const Seg& b) { return a.paddr < b.paddr; });
	for (size_t i = 1; i < segs.size(); i++)
		if (segs[i].paddr < segs[i - 1].paddr + segs[i - 1].memsz) fail("kernel: ELF segments overlap");

	LoadedKernel k;
	k.kind = LoadedKernel::Kind::elf;
	k.entry = eh.e_entry;
	k.low = segs.front().paddr;
	k.high = segs.back().paddr + segs.back().memsz;
	bool inside = false;
	for (const auto& s : segs)
		if (k.entry >= s.paddr && k.entry < s.paddr + s.memsz) inside = true;
	if (!inside) fail(strprintf("kernel: ELF entry 0x%llx is outside its segments", (unsigned long long)k.entry));
	for (const auto& s : segs) put(data, mem, place, s.paddr, s.offset, s.filesz, s.memsz);
	return k;
}

LoadedKernel load_bzimage(const uint8_t* data, size_t len, const GuestMemory& mem, const Place& place) {
	if (len < 0x250) fail("kernel: bzImage truncated");
	setup_header hdr{};
	// The header runs from 0x1f1 to 0x202 + the jump's offset byte.
	size_t hdr_end = 0x202 + data[0x201];
	size_t n = std::min({hdr_end - 0x1f1, sizeof hdr, len - 0x1f1});
	std::memcpy(&hdr, data + 0x1f1, n);
	if (hdr.boot_flag != 0xaa55 || hdr.header != 0x53726448) fail("kernel: not a bzImage (no HdrS signature)");
	if (hdr.version < 0x20c) fail(strprintf("kernel: boot protocol %x.%02x too old (need 2.12)", hdr.version >> 8, hdr.version & 0xff));
	if (!(hdr.xloadflags & XLF_KERNEL_64)) fail("kernel: bzImage has no 64-bit entry point");
	if (!(hdr.loadflags & LOADED_HIGH)) fail("kernel: bzImage is not a high-loaded kernel");
	uint64_t setup_sects = hdr.setup_sects ? hdr.setup_sects : 4;
	uint64_t setup_size = (setup_sects + 1) * 512;
	if (setup_size >= len) fail("kernel: bzImage truncated (setup larger than file)");
	uint64_t payload = len - setup_size;
	if (hdr.syssize && static_cast<uint64_t>(hdr.syssize) * 16 > payload) fail("kernel: bzImage truncated (syssize)");
	uint64_t need = std::max<uint64_t>(payload, hdr.init_size);
	if (!mem.contains(kBzImageLoad, need)) fail("kernel: bzImage does not fit in guest memory");
	if (hdr.pref_address > kBzImageLoad && !mem.contains(hdr.pref_address, hdr.init_size))
		fail("kernel: bzImage's preferred address does not fit in guest memory");
	put(data, mem, place, kBzImageLoad, setup_size, payload, payload);
	LoadedKernel k;
	k.kind = LoadedKernel::Kind::bzimage;
	k.entry = kBzImageLoad + 0x200;
	k.low = kBzImageLoad;
	k.high = std::max<uint64_t>(kBzImageLoad + need, hdr.pref_address + static_cast<uint64_t>(hdr.init_size));
	k.setup = hdr;
	return k;
}

LoadedKernel load_kernel(const uint8_t* data, size_t len, const GuestMemory& mem, const Place& place) {
	if (len >= SELFMAG && std::memcmp(data, ELFMAG, SELFMAG) == 0) return load_elf(data, len, mem, place);
	if (len >= 0x206 && std::memcmp(data + 0x202, "HdrS", 4) == 0) return load_bzimage(data, len, mem, place);
	fail("kernel: neither an ELF vmlinux nor a bzImage");
}

LoadedInitrd load_initrd(const uint8_t* data, size_t len, const GuestMemory& mem, uint64_t kernel_end,
                         uint64_t max_addr) {
	uint64_t top = 0;
	for (const auto& r : mem.regions())
		if (r.gpa < 0x100000000ull) top = std::max(top, r.gpa + r.size);
	top = std::min(top, max_addr + 1);
	if (len == 0) fail("initrd: empty");
	uint64_t size = (static_cast<uint64_t>(len) + 0xfff) & ~0xfffull;
	if (size > top || top - size < kernel_end) fail("initrd: does not fit in guest memory beside the kernel");
	uint64_t addr = (top - size) & ~0xfffull;
	if (!mem.contains(addr, len)) fail("initrd: does not fit in guest memory");
	std::memcpy(mem.ptr(addr, len), data, len);
	return {addr, len};
}

}  // namespace bencher::vmm::boot
