// tables.hh: the ACPI tables bencher-vmm writes below 1 MiB before the first
// instruction, as Firecracker does, so that a kernel with ACPI (a
// distribution's, whose virtio_mmio takes no command-line devices) finds the
// vCPUs, the I/O APIC and every virtio-mmio device: RSDP -> XSDT -> FADT
// (hardware-reduced ACPI) -> DSDT, and the MADT. A kernel without ACPI (ours)
// never looks at them; it reads the MP table and the command line.
#pragma once

#include <cstdint>
#include <vector>

#include "vmm/memory.hh"

namespace bencher::vmm::acpi {

using Bytes = std::vector<uint8_t>;

// A virtio-mmio device as the DSDT declares it (_HID "LNRO0005").
struct MmioDevice {
	uint64_t base;
	uint64_t size;
	uint32_t gsi;  // edge-triggered, active high
};

// The byte that makes the sum of `n` bytes, itself included, zero.
uint8_t checksum(const uint8_t* p, size_t n);

// Each table whole, checksum included. Addresses are guest physical.
Bytes rsdp(uint64_t xsdt);  // revision 2: no RSDT, only the XSDT
Bytes xsdt(const std::vector<uint64_t>& tables);
Bytes fadt(uint64_t dsdt);
// One processor local APIC per vCPU (ids 0..n-1), then the I/O APIC with
// id n, GSIs from 0: what write_mptable says and KVM_CREATE_IRQCHIP made.
Bytes madt(uint32_t ncpus);
// COM1 (ttyS0, IRQ 4), then one Device per virtio-mmio device, V000 up,
// _UID its index, all in \_SB.
Bytes dsdt(const std::vector<MmioDevice>& devices);

// All of them in guest memory: the RSDP at boot::kAcpiStart, where Linux
// also scans for it, the others after it, below 1 MiB.
void write_tables(const GuestMemory& mem, uint32_t ncpus, const std::vector<MmioDevice>& devices);

}  // namespace bencher::vmm::acpi
