// cpu.hh: the vCPU state a 64-bit Linux entry expects (long mode, flat
// segments from our GDT, the identity page tables, RSI at the zero page),
// CPUID with the topology of N vCPUs, and the LAPIC's LINT0/LINT1 wiring.
#pragma once

#include <cstdint>

#include "vmm/kvm/kvm.hh"

namespace bencher::vmm::boot {

// Adjusts the host's supported CPUID for vCPU `id` of `count`.
// `tsc_deadline`: KVM emulates the LAPIC's TSC-deadline timer mode
// (KVM_CAP_TSC_DEADLINE_TIMER), which KVM_GET_SUPPORTED_CPUID never shows.
void setup_cpuid(kvm::CpuidList& c, uint32_t id, uint32_t count, bool tsc_deadline);
// Puts the boot vCPU at `entry` in 64-bit mode with RSI = the zero page.
void setup_long_mode(kvm::Vcpu& vcpu, uint64_t entry);
// LINT0 as ExtINT, LINT1 as NMI: the virtual wire the kernel expects.
void setup_lapic(kvm::Vcpu& vcpu);

}  // namespace bencher::vmm::boot
