// kvm.cc: the ioctl wrappers of kvm.hh. Each failure names its ioctl.
#include "vmm/kvm/kvm.hh"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstring>

#include "common/error.hh"

namespace bencher::vmm::kvm {

namespace {
int xioctl(int fd, unsigned long req, const char* name, unsigned long arg = 0) {
	int r;
	do r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	if (r < 0) fail_errno(name);
	return r;
}
template <typename T>
int xioctl(int fd, unsigned long req, const char* name, T* arg) {
	return xioctl(fd, req, name, reinterpret_cast<unsigned long>(arg));
}
}  // namespace

CpuidList::CpuidList(size_t n)
    : buf_((8 + n * sizeof(kvm_cpuid_entry2)) / sizeof(uint64_t) + 1), cap_(n) {
	get()->nent = static_cast<uint32_t>(n);
}

kvm_cpuid_entry2* CpuidList::find(uint32_t function, uint32_t index) {
	for (auto& e : *this)
		if (e.function == function && e.index == index) return &e;
	return nullptr;
}

void CpuidList::add(const kvm_cpuid_entry2& e) {
	if (get()->nent >= cap_) fail("cpuid: too many entries");
	get()->entries[get()->nent++] = e;
}

void CpuidList::remove(uint32_t function) {
	auto* c = get();
	uint32_t out = 0;
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function != function) c->entries[out++] = c->entries[i];
	c->nent = out;
}

Kvm::Kvm(int fd) {
	if (fd >= 0)
		fd_.reset(fd);
	else
		fd_ = open_file("/dev/kvm", O_RDWR);
	int v = ioctl(fd_.get(), KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) fail(strprintf("/dev/kvm: KVM API version %d, want %d", v, KVM_API_VERSION));
}

int Kvm::check_extension(long cap) const { return ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap); }

size_t Kvm::vcpu_mmap_size() const {
	return static_cast<size_t>(xioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE"));
}

CpuidList Kvm::supported_cpuid() const {
	CpuidList c(256);
	xioctl(fd_.get(), kGetSupportedCpuid, "KVM_GET_SUPPORTED_CPUID", c.get());
	return c;
}

Vm::Vm(const Kvm& kvm) {
	int fd;
	do fd = ioctl(kvm.fd(), KVM_CREATE_VM, 0);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) fail_errno("KVM_CREATE_VM");
	fd_.reset(fd);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

void Vm::set_user_memory(uint32_t slot, uint64_t gpa, uint64_t size, void* host) {
	kvm_userspace_memory_region r{};
	r.slot = slot;
	r.guest_phys_addr = gpa;
	r.memory_size = size;
	r.userspace_addr = reinterpret_cast<uint64_t>(host);
	xioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION", &r);
}

void Vm::set_tss_addr(uint64_t addr) { xioctl(fd_.get(), KVM_SET_TSS_ADDR, "KVM_SET_TSS_ADDR", addr); }

void Vm::set_identity_map_addr(uint64_t addr) {
	xioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, "KVM_SET_IDENTITY_MAP_ADDR", &addr);
}

void Vm::create_irqchip() { xioctl(fd_.get(), KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP"); }

void Vm::create_pit2() {
	kvm_pit_config c{};
	c.flags = KVM_PIT_SPEAKER_DUMMY;
	xioctl(fd_.get(), KVM_CREATE_PIT2, "KVM_CREATE_PIT2", &c);
}

void Vm::irq_line(uint32_t irq, int level) {
	kvm_irq_level l{};
	l.irq = irq;
	l.level = level;
	xioctl(fd_.get(), KVM_IRQ_LINE, "KVM_IRQ_LINE", &l);
}

void Vm::ioeventfd(int efd, uint64_t addr, uint32_t len, int64_t datamatch) {
	kvm_ioeventfd e{};
	e.addr = addr;
	e.len = len;
	e.fd = efd;
	if (datamatch >= 0) {
		e.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
		e.datamatch = static_cast<uint64_t>(datamatch);
	}
	xioctl(fd_.get(), KVM_IOEVENTFD, "KVM_IOEVENTFD", &e);
}

void Vm::irqfd(int efd, uint32_t gsi) {
	kvm_irqfd f{};
	f.fd = static_cast<uint32_t>(efd);
	f.gsi = gsi;
	xioctl(fd_.get(), KVM_IRQFD, "KVM_IRQFD", &f);
}

Vcpu::Vcpu(const Kvm& kvm, Vm& vm, uint32_t id) : id_(id) {
	int fd = xioctl(vm.fd(), KVM_CREATE_VCPU, "KVM_CREATE_VCPU", static_cast<unsigned long>(id));
	fd_.reset(fd);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	run_ = Mapping::map(kvm.vcpu_mmap_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, "mmap kvm_run");
}

bool Vcpu::run() {
	if (ioctl(fd_.get(), KVM_RUN, 0) == 0) return true;
	if (errno == EINTR || errno == EAGAIN) return false;
	fail_errno("KVM_RUN");
}

kvm_regs Vcpu::regs() {
	kvm_regs r{};
	xioctl(fd_.get(), KVM_GET_REGS, "KVM_GET_REGS", &r);
	return r;
}
void Vcpu::set_regs(const kvm_regs& r) { xioctl(fd_.get(), KVM_SET_REGS, "KVM_SET_REGS", &r); }
kvm_sregs Vcpu::sregs() {
	kvm_sregs s{};
	xioctl(fd_.get(), KVM_GET_SREGS, "KVM_GET_SREGS", &s);
	return s;
}
void Vcpu::set_sregs(const kvm_sregs& s) { xioctl(fd_.get(), KVM_SET_SREGS, "KVM_SET_SREGS", &s); }
void Vcpu::set_fpu(const kvm_fpu& f) { xioctl(fd_.get(), KVM_SET_FPU, "KVM_SET_FPU", &f); }
void Vcpu::set_cpuid(CpuidList& c) { xioctl(fd_.get(), kSetCpuid2, "KVM_SET_CPUID2", c.get()); }

void Vcpu::set_msrs(const std::vector<std::pair<uint32_t, uint64_t>>& msrs) {
	// C layout: {u32 nmsrs, u32 pad, kvm_msr_entry entries[]}, see Cpuid2.
	std::vector<uint64_t> buf(1 + msrs.size() * sizeof(kvm_msr_entry) / 8);
	buf[0] = msrs.size();
	auto* e = reinterpret_cast<kvm_msr_entry*>(buf.data() + 1);
	for (size_t i = 0; i < msrs.size(); i++) {
		e[i].index = msrs[i].first;
		e[i].data = msrs[i].second;
	}
	int n = xioctl(fd_.get(), kSetMsrs, "KVM_SET_MSRS", buf.data());
	if (n != static_cast<int>(msrs.size())) fail(strprintf("KVM_SET_MSRS: set %d of %zu", n, msrs.size()));
}

kvm_lapic_state Vcpu::lapic() {
	kvm_lapic_state l{};
	xioctl(fd_.get(), KVM_GET_LAPIC, "KVM_GET_LAPIC", &l);
	return l;
}
void Vcpu::set_lapic(const kvm_lapic_state& l) { xioctl(fd_.get(), KVM_SET_LAPIC, "KVM_SET_LAPIC", &l); }

}  // namespace bencher::vmm::kvm
