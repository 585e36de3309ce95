// cpu.cc: vCPU register setup of cpu.hh, after Firecracker's x86_64 regs.rs
// and cpuid normalisation (reduced to what Linux needs to count the CPUs).
#include "vmm/boot/cpu.hh"

#include <cstring>

#include "vmm/boot/layout.hh"

namespace bencher::vmm::boot {

namespace {
kvm_segment segment(uint16_t sel, uint64_t gdt_entry) {
	kvm_segment s{};
	s.base = ((gdt_entry >> 16) & 0xffffff) | (((gdt_entry >> 56) & 0xff) << 24);
	uint32_t limit = static_cast<uint32_t>((gdt_entry & 0xffff) | (((gdt_entry >> 48) & 0xf) << 16));
	s.g = (gdt_entry >> 55) & 1;
	s.limit = s.g ? (limit << 12) | 0xfff : limit;
	s.selector = sel;
	s.type = (gdt_entry >> 40) & 0xf;
	s.present = (gdt_entry >> 47) & 1;
	s.dpl = (gdt_entry >> 45) & 3;
	s.db = (gdt_entry >> 54) & 1;
	s.s = (gdt_entry >> 44) & 1;
	s.l = (gdt_entry >> 53) & 1;
	s.avl = (gdt_entry >> 52) & 1;
	s.unusable = s.present ? 0 : 1;
	return s;
}

uint32_t bits_for(uint32_t n) {
	uint32_t b = 0;
	while ((1u << b) < n) b++;
	return b;
}
}  // namespace

void setup_cpuid(kvm::CpuidList& c, uint32_t id, uint32_t count, bool tsc_deadline) {
	for (auto& e : c) {
		switch (e.function) {
		case 1:
			// Initial APIC id, logical processor count, HTT when more than one.
			e.ebx = (e.ebx & 0x0000ffff) | (id << 24) | ((count > 1 ? count : 1) << 16);
			if (count > 1) e.edx |= 1u << 28;
			e.ecx |= 1u << 31;  // hypervisor present
			// With a TSC-deadline timer Linux skips calibrating the LAPIC
			// timer against the PIT, a busy wait of ~100 ms of ticks
			// (250 ms in the nested test host); QEMU and Firecracker set it.
			if (tsc_deadline) e.ecx |= 1u << 24;
			break;
		case 4: {
			// Cores per package in EAX[31:26] (count - 1), no shared threads.
			uint32_t cache_type = e.eax & 0x1f;
			if (cache_type) e.eax = (e.eax & 0x03ffffff) | ((count - 1) << 26);
			e.eax &= ~(0xfffu << 14);  // one logical processor per cache
			break;
		}
		case 0xb:
		case 0x1f:
			// Extended topology: one thread per core, `count` cores.
			e.edx = id;
			if (e.index == 0) {
				e.eax = 0;
				e.ebx = 1;
				e.ecx = 0 | (1u << 8);  // SMT level
			} else if (e.index == 1) {
				e.eax = bits_for(count);
				e.ebx = count;
				e.ecx = 1 | (2u << 8);  // core level
			} else {
				e.eax = 0;
				e.ebx = 0;
				e.ecx = e.index;
			}
			break;
		case 0x80000008:
			e.ecx = (e.ecx & ~0xf0ffu) | ((count - 1) & 0xff) | (bits_for(count) << 12);
			break;
		case 0x8000001e:
			e.eax = id;
			e.ebx = id & 0xff;  // compute unit id, one thread per unit
			e.ecx = 0;
			break;
		default:
			break;
		}
	}
	// AMD: no CmpLegacy/topology extensions lying about a bigger package.
	if (auto* e = c.find(0x80000001)) {
		e->ecx &= ~(1u << 1);   // CmpLegacy
		e->ecx &= ~(1u << 22);  // TopologyExtensions
	}
}

void setup_long_mode(kvm::Vcpu& vcpu, uint64_t entry) {
	kvm_sregs s = vcpu.sregs();
	s.cs = segment(kCodeSel, kGdt[1]);
	s.ds = s.es = s.fs = s.gs = s.ss = segment(kDataSel, kGdt[2]);
	s.tr = segment(kTssSel, kGdt[3]);
	s.gdt.base = kGdtAddr;
	s.gdt.limit = sizeof kGdt - 1;
	s.idt.base = kIdtAddr;
	s.idt.limit = 7;
	s.cr3 = kPml4;
	s.cr4 = 1u << 5;                 // PAE
	s.cr0 = 1u | (1u << 31) | 0x10;  // PE, PG, ET
	s.efer = (1u << 8) | (1u << 10);  // LME, LMA
	vcpu.set_sregs(s);

	kvm_regs r{};
	r.rflags = 2;
	r.rip = entry;
	r.rsp = r.rbp = kBootStack;
	r.rsi = kZeroPage;
	vcpu.set_regs(r);

	kvm_fpu f{};
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	vcpu.set_fpu(f);

	vcpu.set_msrs({{0x1a0, 1}});  // IA32_MISC_ENABLE: fast strings
}

void setup_lapic(kvm::Vcpu& vcpu) {
	kvm_lapic_state l = vcpu.lapic();
	auto set_lvt = [&](size_t off, uint32_t mode) {
		uint32_t v;
		std::memcpy(&v, l.regs + off, 4);
		v = (v & ~0x700u) | (mode << 8);
		std::memcpy(l.regs + off, &v, 4);
	};
	set_lvt(0x350, 7);  // LINT0: ExtINT
	set_lvt(0x360, 4);  // LINT1: NMI
	vcpu.set_lapic(l);
}

}  // namespace bencher::vmm::boot
