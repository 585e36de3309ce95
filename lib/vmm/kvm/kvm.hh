// kvm.hh: thin RAII wrappers over the KVM ioctl API (/dev/kvm, the VM fd, the
// vCPU fds). No policy lives here: vm.cc decides what to create and how to
// set it up; these only make each ioctl a call that throws "KVM_X: why".
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/fd.hh"

namespace bencher::vmm::kvm {

// <linux/kvm.h> declares kvm_cpuid2 and kvm_msrs with __DECLARE_FLEX_ARRAY,
// which C++ lays out differently from C (entries at 12, not 8; sizeof 12, so
// even the ioctl numbers differ). We use the C layout spelled out here.
struct Cpuid2 {
	uint32_t nent;
	uint32_t padding;
	kvm_cpuid_entry2 entries[1];  // really nent of them
};
static_assert(offsetof(Cpuid2, entries) == 8);
constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);
constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);
constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);

// A Cpuid2 with room for its entries.
class CpuidList {
public:
	explicit CpuidList(size_t n = 256);
	Cpuid2* get() { return reinterpret_cast<Cpuid2*>(buf_.data()); }
	const Cpuid2* get() const { return reinterpret_cast<const Cpuid2*>(buf_.data()); }
	kvm_cpuid_entry2* begin() { return get()->entries; }
	kvm_cpuid_entry2* end() { return get()->entries + get()->nent; }
	kvm_cpuid_entry2* find(uint32_t function, uint32_t index = 0);
	void add(const kvm_cpuid_entry2& e);
	void remove(uint32_t function);

private:
	std::vector<uint64_t> buf_;
	size_t cap_;
};

class Kvm {
public:
	// Opens /dev/kvm (or adopts fd when >= 0) and checks the API version.
	explicit Kvm(int fd = -1);
	int fd() const { return fd_.get(); }
	int check_extension(long cap) const;
	size_t vcpu_mmap_size() const;
	CpuidList supported_cpuid() const;

private:
	UniqueFd fd_;
};

class Vm {
public:
	explicit Vm(const Kvm& kvm);
	int fd() const { return fd_.get(); }
	void set_user_memory(uint32_t slot, uint64_t gpa, uint64_t size, void* host);
	void set_tss_addr(uint64_t addr);
	void set_identity_map_addr(uint64_t addr);
	void create_irqchip();
	void create_pit2();
	void irq_line(uint32_t irq, int level);
	// An eventfd written on a guest write of `len` bytes to MMIO `addr`
	// (matching `datamatch` when it is >= 0).
	void ioeventfd(int efd, uint64_t addr, uint32_t len, int64_t datamatch);
	void irqfd(int efd, uint32_t gsi);

private:
	UniqueFd fd_;
};

class Vcpu {
public:
	Vcpu(const Kvm& kvm, Vm& vm, uint32_t id);
	uint32_t id() const { return id_; }
	int fd() const { return fd_.get(); }
	kvm_run* run_state() const { return static_cast<kvm_run*>(run_.data()); }
	// KVM_RUN; returns false on EINTR (a kick), throws on other errors.
	bool run();
	kvm_regs regs();
	void set_regs(const kvm_regs& r);
	kvm_sregs sregs();
	void set_sregs(const kvm_sregs& s);
	void set_fpu(const kvm_fpu& f);
	void set_cpuid(CpuidList& c);
	void set_msrs(const std::vector<std::pair<uint32_t, uint64_t>>& msrs);
	kvm_lapic_state lapic();
	void set_lapic(const kvm_lapic_state& l);

private:
	uint32_t id_;
	UniqueFd fd_;
	Mapping run_;
};

}  // namespace bencher::vmm::kvm
