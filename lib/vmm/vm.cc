// vm.cc: the build-and-run sequence of vm.hh. Setup is a straight list of
// steps (inputs.cc opens the files first). One thread per vCPU, each a
// KVM_RUN loop with a switch on the exit reason that hands port I/O and MMIO
// to the buses (as kvmtool's kvm-cpu.c); the calling thread runs the device
// event loop, which also watches the timeout, SIGTERM/SIGINT and the vCPUs'
// verdict.
#include "vmm/vm.hh"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "common/error.hh"
#include "common/json.hh"
#include "common/log.hh"
#include "vmm/acpi/tables.hh"
#include "vmm/boot/cpu.hh"
#include "vmm/boot/layout.hh"
#include "vmm/boot/loader.hh"
#include "vmm/bus.hh"
#include "vmm/devices/boot_timer.hh"
#include "vmm/devices/console.hh"
#include "vmm/devices/i8042.hh"
#include "vmm/devices/serial.hh"
#include "vmm/event_loop.hh"
#include "vmm/inputs.hh"
#include "vmm/kvm/kvm.hh"
#include "vmm/memory.hh"
#include "vmm/sandbox/sandbox.hh"
#include "vmm/vhost/frontend.hh"
#include "vmm/virtio/block.hh"
#include "vmm/virtio/fs.hh"
#include "vmm/virtio/mmio.hh"
#include "vmm/virtio/vsock/device.hh"
#include "vsock/control.hh"

namespace bencher::vmm {

uint64_t monotonic_ns() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string report_json(const Report& r) {
	auto v = json::Value::object();
	v.set("outcome", json::Value::string(r.outcome));
	v.set("exit_code", json::Value::integer(r.exit_code));
	v.set("boot_to_init_ms", r.boot_to_init_ms ? json::Value::real(*r.boot_to_init_ms) : json::Value::null());
	v.set("run_ms", json::Value::real(r.run_ms));
	v.set("console_bytes", json::Value::integer(static_cast<int64_t>(r.console_bytes)));
	if (!r.detail.empty()) v.set("detail", json::Value::string(r.detail));
	if (!r.devices.empty()) {
		auto a = json::Value::array();
		for (const auto& d : r.devices) a.append(json::Value::string(d));
		v.set("devices", std::move(a));
	}
	return json::dump(v) + "\n";
}

namespace {

constexpr uint64_t kMmioBase = 0xd0000000;
constexpr uint32_t kFirstVirtioIrq = 5;
constexpr int kKickSignal = SIGUSR1;
constexpr uint64_t kStopGraceNs = 5000000000;  // vCPUs must stop within 5 s

// An eventfd write fails only when its counter would overflow, and then
// the wakeup it is for is pending anyway; a read finding nothing means
// another reader took the count. Neither is an error to report.
void eventfd_signal(int fd) {
	uint64_t one = 1;
	(void)!::write(fd, &one, sizeof one);
}
void eventfd_drain(int fd) {
	uint64_t v;
	(void)!::read(fd, &v, sizeof v);
}

UniqueFd new_eventfd() {
	UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!fd) fail_errno("eventfd");
	return fd;
}

// What ended the run; the first verdict wins.
enum class Verdict { none, reset, triple_fault, kvm_error, timeout, cancelled, error };

struct State {
	std::atomic<int> verdict{static_cast<int>(Verdict::none)};
	std::atomic<bool> stop{false};
	std::string detail;
	UniqueFd wake;  // eventfd: a vCPU reached a verdict
	bool decide(Verdict v, const std::string& why = "") {
		int none = static_cast<int>(Verdict::none);
		if (!verdict.compare_exchange_strong(none, static_cast<int>(v))) return false;
		detail = why;
		stop = true;
		eventfd_signal(wake.get());
		return true;
	}
};

void kick_handler(int) {}

// SIGTERM/SIGINT arrive as a signalfd on the loop; every thread blocks
// them. The kick signal is left to interrupt KVM_RUN (no SA_RESTART).
sigset_t block_stop_signals() {
	sigset_t stop_set;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa {};
	sa.sa_handler = kick_handler;
	sigaction(kKickSignal, &sa, nullptr);
	return stop_set;
}

class Machine {
public:
	Machine(const VmConfig& c, uint64_t start_ns) : c_(c), start_ns_(start_ns) {}
	Report run();

private:
	// Setup, in order.
	void setup();
	void create_vm();
	boot::LoadedKernel load_images(Inputs& in, std::optional<boot::LoadedInitrd>& rd);
	void create_legacy_devices();
	void create_virtio_devices(Inputs& in);
	struct VirtioSlot {
		uint64_t base;
		uint32_t irq;
		int irqfd;
		std::vector<int> notify_fds;
	};
	VirtioSlot place_virtio(const virtio::Device& dev);
	void attach(std::unique_ptr<virtio::Transport> t, const VirtioSlot& s);
	void add_virtio(virtio::Device& dev);
	void add_virtiofs(Inputs::Virtiofs& share);
	void write_boot_data(const boot::LoadedKernel& k, const std::optional<boot::LoadedInitrd>& rd);
	void create_vcpus(uint64_t entry);
	// Running.
	void watch_stops(const sigset_t& stop_set, UniqueFd& sigfd, UniqueFd& timer);
	std::vector<std::thread> start_vcpus();
	void seal(std::vector<std::thread>& threads);
	void serve();
	unsigned stop_vcpus(std::vector<std::thread>& threads);
	Report report(unsigned stuck);
	// A vCPU thread.
	void vcpu_loop(size_t i);
	void vcpu_exit(size_t i, kvm_run* r);
	void pio(kvm_run* r);
	void mmio(kvm_run* r);

	const VmConfig& c_;
	uint64_t start_ns_;
	State st_;
	UniqueFd inherited_kvm_;
	std::unique_ptr<kvm::Kvm> kvm_;
	std::unique_ptr<kvm::Vm> vm_;
	std::unique_ptr<MappedMemory> mem_;
	std::vector<std::unique_ptr<kvm::Vcpu>> vcpus_;
	Bus pio_bus_{"port I/O"}, mmio_bus_{"MMIO"};
	UniqueFd console_fd_;
	std::unique_ptr<Console> console_;
	std::unique_ptr<Serial> serial_;
	std::unique_ptr<I8042> i8042_;
	BootTimer boot_timer_{monotonic_ns};
	EventLoop loop_;
	std::unique_ptr<virtio::Disk> disk_;
	std::unique_ptr<virtio::Block> block_;
	std::unique_ptr<virtio::Vsock> vsock_;
	std::vector<std::unique_ptr<vhost::Frontend>> vhost_;
	std::vector<std::unique_ptr<virtio::Fs>> fs_;
	std::vector<std::unique_ptr<virtio::Transport>> transports_;
	std::vector<UniqueFd> eventfds_;
	// Every virtio-mmio device, in attach order: the DSDT and the
	// virtio_mmio.device= entries both describe them from this list.
	std::vector<acpi::MmioDevice> mmio_devices_;
	// Shared with the vCPU threads (see start_vcpus()).
	std::atomic<bool> gate_{false};
	std::atomic<size_t> ready_{0};
	std::vector<std::atomic<bool>> done_;
};

void Machine::setup() {
	Inputs in = open_inputs(c_);
	inherited_kvm_ = std::move(in.kvm);
	create_vm();
	std::optional<boot::LoadedInitrd> rd;
	boot::LoadedKernel k = load_images(in, rd);
	console_fd_ = std::move(in.console);
	create_legacy_devices();
	disk_ = std::move(in.disk);
	create_virtio_devices(in);
	write_boot_data(k, rd);
	create_vcpus(k.entry);
}

void Machine::create_vm() {
	kvm_ = std::make_unique<kvm::Kvm>(inherited_kvm_ ? inherited_kvm_.release() : -1);
	for (long cap : {KVM_CAP_IRQCHIP, KVM_CAP_USER_MEMORY, KVM_CAP_IOEVENTFD, KVM_CAP_IRQFD, KVM_CAP_PIT2,
	                 KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_EXT_CPUID})
		if (kvm_->check_extension(cap) <= 0) fail(strprintf("/dev/kvm lacks capability %ld", cap));
	vm_ = std::make_unique<kvm::Vm>(*kvm_);
	vm_->set_tss_addr(0xfffbd000);
	vm_->set_identity_map_addr(0xfffbc000);
	vm_->create_irqchip();
	vm_->create_pit2();
	// A vhost-user backend maps guest RAM itself: then it is a shared memfd.
	mem_ = std::make_unique<MappedMemory>(c_.memory_mib << 20, !c_.virtiofs.empty());
	uint32_t slot = 0;
	for (const auto& r : mem_->regions()) vm_->set_user_memory(slot++, r.gpa, r.size, r.host);
}

// The images are let go of once in guest memory.
boot::LoadedKernel Machine::load_images(Inputs& in, std::optional<boot::LoadedInitrd>& rd) {
	const Image& kernel = in.kernel;
	auto k = boot::load_kernel(kernel.data(), kernel.size(), *mem_,
	                           [&](uint64_t gpa, uint64_t off, uint64_t filesz, uint64_t memsz) {
		                           mem_->place(kernel.data(), kernel.fd.get(), gpa, off, filesz, memsz);
	                           });
	in.kernel = Image();
	if (in.initrd.size() > 0) {
		uint64_t max = k.setup && k.setup->initrd_addr_max ? k.setup->initrd_addr_max : 0x7fffffff;
		rd = boot::load_initrd(in.initrd.data(), in.initrd.size(), *mem_, k.high, max);
		in.initrd = Image();
	}
	return k;
}

void Machine::create_legacy_devices() {
	console_ = std::make_unique<Console>(console_fd_.get(), c_.console_limit);
	serial_ = std::make_unique<Serial>(console_.get(), [this](int level) { vm_->irq_line(Serial::kIrq, level); });
	i8042_ = std::make_unique<I8042>(
	    [this](uint32_t irq) {
		    vm_->irq_line(irq, 1);
		    vm_->irq_line(irq, 0);
	    },
	    [this] { st_.decide(Verdict::reset); });
	pio_bus_.add(Serial::kBase, Serial::kPorts, *serial_);
	pio_bus_.add(I8042::kData, 1, *i8042_);
	pio_bus_.add(I8042::kCommand, 1, *i8042_);
	pio_bus_.add(BootTimer::kPort, 1, boot_timer_);
}

void Machine::create_virtio_devices(Inputs& in) {
	if (disk_) {
		block_ = std::make_unique<virtio::Block>(*disk_);
		add_virtio(*block_);
	}
	vsock_ = std::make_unique<virtio::Vsock>(loop_, std::move(in.vsock), vsock::kGuestCid);
	add_virtio(*vsock_);
	vsock_->attach(transports_.back().get());
	for (auto& share : in.virtiofs) add_virtiofs(share);
}

// Each virtio device gets the next 4 KiB of MMIO and the next IRQ (past the
// i8042's AUX line), an irqfd to raise it, and an eventfd per queue that KVM
// signals on the guest's QueueNotify write (an ioeventfd), so that a
// notification never stops the vCPU in the VMM.
Machine::VirtioSlot Machine::place_virtio(const virtio::Device& dev) {
	size_t idx = transports_.size();
	VirtioSlot s;
	s.base = kMmioBase + idx * virtio::Transport::kSize;
	s.irq = kFirstVirtioIrq + static_cast<uint32_t>(idx);
	if (s.irq >= I8042::kAuxIrq) s.irq++;
	UniqueFd irqfd = new_eventfd();
	vm_->irqfd(irqfd.get(), s.irq);
	s.irqfd = irqfd.get();
	eventfds_.push_back(std::move(irqfd));
	for (uint16_t q = 0; q < dev.num_queues(); q++) {
		UniqueFd efd = new_eventfd();
		vm_->ioeventfd(efd.get(), s.base + 0x50, 4, q);
		s.notify_fds.push_back(efd.get());
		eventfds_.push_back(std::move(efd));
	}
	return s;
}

void Machine::attach(std::unique_ptr<virtio::Transport> t, const VirtioSlot& s) {
	mmio_bus_.add(s.base, virtio::Transport::kSize, *t);
	mmio_devices_.push_back({s.base, virtio::Transport::kSize, s.irq});
	transports_.push_back(std::move(t));
}

// A device the VMM serves: notifications are handled on the event loop's
// thread, not in the vCPU's exit.
void Machine::add_virtio(virtio::Device& dev) {
	VirtioSlot s = place_virtio(dev);
	int irq_raw = s.irqfd;
	auto t = std::make_unique<virtio::Transport>(dev, *mem_, [irq_raw] { eventfd_signal(irq_raw); });
	virtio::Transport* tp = t.get();
	for (uint16_t q = 0; q < s.notify_fds.size(); q++) {
		int raw = s.notify_fds[q];
		loop_.add(raw, EPOLLIN, [tp, raw, q](uint32_t) {
			eventfd_drain(raw);
			tp->notify(q);
		});
	}
	t->on_notify_write = [fds = s.notify_fds](uint16_t q) {
		if (q < fds.size()) eventfd_signal(fds[q]);
	};
	attach(std::move(t), s);
}

// A virtio-fs device whose queues the vhost-user backend serves: it gets
// the queues' eventfds to wait on and the irqfd to raise, and the VMM only
// watches for it hanging up, which would leave the guest's file system
// waiting for good.
void Machine::add_virtiofs(Inputs::Virtiofs& share) {
	auto& be = vhost_.emplace_back(std::make_unique<vhost::Frontend>(std::move(share.sock), "virtio-fs " + share.tag));
	auto& fs = fs_.emplace_back(std::make_unique<virtio::Fs>(share.tag, *be, *mem_));
	VirtioSlot s = place_virtio(*fs);
	fs->connect(s.notify_fds, s.irqfd);
	int irq_raw = s.irqfd;
	attach(std::make_unique<virtio::Transport>(*fs, *mem_, [irq_raw] { eventfd_signal(irq_raw); }), s);
	int sock = be->fd();
	std::string why = be->name() + ": the vhost-user backend closed the connection";
	loop_.add(sock, EPOLLRDHUP, [this, sock, why](uint32_t) {
		loop_.remove(sock);
		st_.decide(Verdict::error, why);
	});
}

void Machine::write_boot_data(const boot::LoadedKernel& k, const std::optional<boot::LoadedInitrd>& rd) {
	std::string devices;
	for (const acpi::MmioDevice& d : mmio_devices_)
		devices += (devices.empty() ? "" : " ") + virtio::Transport::cmdline_entry(d.base, d.gsi);
	std::string cmdline = build_cmdline(c_, devices);
	BLOG_INFO("kernel command line: %s", cmdline.c_str());
	boot::write_cmdline(*mem_, cmdline);
	boot::write_boot_params(*mem_, k, cmdline.size(), rd ? &*rd : nullptr);
	boot::write_gdt(*mem_);
	boot::write_page_tables(*mem_);
	boot::write_mptable(*mem_, c_.vcpus);
	acpi::write_tables(*mem_, c_.vcpus, mmio_devices_);
}

void Machine::create_vcpus(uint64_t entry) {
	kvm::CpuidList supported = kvm_->supported_cpuid();
	bool tsc_deadline = kvm_->check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	for (uint32_t i = 0; i < c_.vcpus; i++) {
		auto v = std::make_unique<kvm::Vcpu>(*kvm_, *vm_, i);
		kvm::CpuidList cpuid = supported;
		boot::setup_cpuid(cpuid, i, c_.vcpus, tsc_deadline);
		v->set_cpuid(cpuid);
		boot::setup_lapic(*v);
		if (i == 0) boot::setup_long_mode(*v, entry);
		vcpus_.push_back(std::move(v));
	}
}

void Machine::pio(kvm_run* r) {
	auto* data = reinterpret_cast<uint8_t*>(r) + r->io.data_offset;
	for (uint32_t n = 0; n < r->io.count; n++, data += r->io.size) {
		if (r->io.direction == KVM_EXIT_IO_OUT)
			pio_bus_.write(r->io.port, data, r->io.size);
		else if (!pio_bus_.read(r->io.port, data, r->io.size))
			std::memset(data, 0xff, r->io.size);
	}
}

void Machine::mmio(kvm_run* r) {
	size_t len = std::min<size_t>(r->mmio.len, sizeof r->mmio.data);
	if (r->mmio.is_write)
		mmio_bus_.write(r->mmio.phys_addr, r->mmio.data, len);
	else if (!mmio_bus_.read(r->mmio.phys_addr, r->mmio.data, len))
		std::memset(r->mmio.data, 0xff, sizeof r->mmio.data);
}

void Machine::vcpu_exit(size_t i, kvm_run* r) {
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		pio(r);
		break;
	case KVM_EXIT_MMIO:
		mmio(r);
		break;
	case KVM_EXIT_HLT:
		st_.decide(Verdict::reset);
		break;
	case KVM_EXIT_SHUTDOWN:
		st_.decide(Verdict::triple_fault, strprintf("vCPU %zu: triple fault", i));
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		if (r->system_event.type == KVM_SYSTEM_EVENT_CRASH)
			st_.decide(Verdict::kvm_error, strprintf("vCPU %zu: guest crash event", i));
		else
			st_.decide(Verdict::reset);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		st_.decide(Verdict::kvm_error, strprintf("vCPU %zu: KVM entry failure 0x%llx", i,
		                                           (unsigned long long)r->fail_entry.hardware_entry_failure_reason));
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		st_.decide(Verdict::kvm_error, strprintf("vCPU %zu: KVM internal error, suberror %u", i, r->internal.suberror));
		break;
	case KVM_EXIT_INTR:
		break;
	default:
		st_.decide(Verdict::kvm_error, strprintf("vCPU %zu: unexpected exit reason %u", i, r->exit_reason));
		break;
	}
}

// An error on a vCPU thread is caught here, once, and becomes the verdict.
void Machine::vcpu_loop(size_t i) {
	kvm::Vcpu& v = *vcpus_[i];
	kvm_run* r = v.run_state();
	try {
		while (!st_.stop)
			if (v.run()) vcpu_exit(i, r);
	} catch (const Error& e) {
		st_.decide(Verdict::error, strprintf("vCPU %zu: %s", i, e.what()));
	}
}

void Machine::watch_stops(const sigset_t& stop_set, UniqueFd& sigfd, UniqueFd& timer) {
	sigfd.reset(signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!sigfd) fail_errno("signalfd");
	int sig_raw = sigfd.get();
	loop_.add(sig_raw, EPOLLIN, [this, sig_raw](uint32_t) {
		signalfd_siginfo si;
		if (::read(sig_raw, &si, sizeof si) > 0) st_.decide(Verdict::cancelled);
	});
	if (c_.timeout_s > 0) {
		timer.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
		if (!timer) fail_errno("timerfd_create");
		itimerspec its{};
		its.it_value.tv_sec = static_cast<time_t>(c_.timeout_s);
		if (timerfd_settime(timer.get(), 0, &its, nullptr) < 0) fail_errno("timerfd_settime");
		loop_.add(timer.get(), EPOLLIN, [this](uint32_t) { st_.decide(Verdict::timeout); });
	}
	loop_.add(st_.wake.get(), EPOLLIN, [this](uint32_t) { loop_.stop(); });
}

// The vCPU threads wait at a gate until the sandbox is complete (seal()).
// What they touch lives in the Machine, which run_vm leaks if one is left
// behind in KVM_RUN.
std::vector<std::thread> Machine::start_vcpus() {
	std::vector<std::thread> threads;
	done_ = std::vector<std::atomic<bool>>(vcpus_.size());
	for (size_t i = 0; i < vcpus_.size(); i++) {
		threads.emplace_back([this, i] {
			sigset_t s;
			sigemptyset(&s);
			sigaddset(&s, kKickSignal);
			pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
			char name[16];
			snprintf(name, sizeof name, "vcpu%zu", i);
			pthread_setname_np(pthread_self(), name);
			ready_++;
			ready_.notify_all();
			while (!gate_.load()) gate_.wait(false);
			vcpu_loop(i);
			done_[i] = true;
		});
	}
	return threads;
}

// Thread start-up makes syscalls outside the allowlist (prctl for the
// name): every thread gets past them before the filter goes on.
void Machine::seal(std::vector<std::thread>& threads) {
	for (size_t n = ready_.load(); n < threads.size(); n = ready_.load()) ready_.wait(n);
	try {
		if (!c_.no_seccomp) sandbox::apply_seccomp();
	} catch (const Error& e) {
		st_.decide(Verdict::error, e.what());
	}
	gate_ = true;
	gate_.notify_all();
}

// The loop's thread: an error here is caught once and becomes the verdict.
void Machine::serve() {
	try {
		while (!loop_.stopped() && !st_.stop) loop_.run_once(-1);
	} catch (const Error& e) {
		st_.decide(Verdict::error, e.what());
	}
	st_.stop = true;
}

// Kicks every vCPU out of KVM_RUN until it notices the stop flag:
// immediate_exit covers a thread about to enter, the signal one inside. A
// vCPU that does not come out within the grace period (a host kernel that
// never returns from KVM_RUN) is left behind rather than waited for: the
// report is written and the process exits, which ends it. Returns how many.
unsigned Machine::stop_vcpus(std::vector<std::thread>& threads) {
	unsigned stuck = 0;
	uint64_t deadline = monotonic_ns() + kStopGraceNs;
	for (size_t i = 0; i < threads.size(); i++) {
		while (!done_[i] && monotonic_ns() < deadline) {
			vcpus_[i]->run_state()->immediate_exit = 1;
			pthread_kill(threads[i].native_handle(), kKickSignal);
			timespec ts{0, 1000000};
			nanosleep(&ts, nullptr);
		}
		if (done_[i]) {
			threads[i].join();
		} else {
			threads[i].detach();
			stuck++;
		}
	}
	return stuck;
}

Report Machine::report(unsigned stuck) {
	Report r;
	auto v = static_cast<Verdict>(st_.verdict.load());
	bool panic = console_->saw_panic();
	r.detail = st_.detail;
	if ((v == Verdict::reset || v == Verdict::triple_fault) && panic) {
		r.outcome = "panic";
		r.exit_code = kExitPanic;
	} else if (v == Verdict::reset) {
		r.outcome = boot_timer_.shutdown_requested() ? "poweroff" : "reboot";
		r.exit_code = 0;
	} else if (v == Verdict::triple_fault || v == Verdict::kvm_error) {
		r.outcome = v == Verdict::triple_fault ? "triple_fault" : "error";
		r.exit_code = kExitFault;
	} else if (v == Verdict::timeout || v == Verdict::cancelled) {
		r.outcome = v == Verdict::timeout ? "timeout" : "cancelled";
		r.exit_code = v == Verdict::timeout ? kExitTimeout : kExitCancelled;
		for (auto& t : transports_) r.devices.push_back(t->describe());
	} else {
		r.outcome = "error";
		r.exit_code = kExitFailure;
	}
	if (auto t = boot_timer_.init_ns()) r.boot_to_init_ms = static_cast<double>(*t - start_ns_) / 1e6;
	r.run_ms = static_cast<double>(monotonic_ns() - start_ns_) / 1e6;
	r.console_bytes = console_->bytes();
	r.stuck_vcpus = stuck;
	if (stuck) {
		std::string what = strprintf("%u vCPU thread(s) did not leave KVM_RUN within %llu ms of the stop", stuck,
		                             (unsigned long long)(kStopGraceNs / 1000000));
		r.detail = r.detail.empty() ? what : r.detail + "; " + what;
	}
	return r;
}

Report Machine::run() {
	sigset_t stop_set = block_stop_signals();
	st_.wake = new_eventfd();
	setup();
	UniqueFd sigfd, timer;
	watch_stops(stop_set, sigfd, timer);
	// jansson seeds its hash from /dev/urandom on first use; the report is
	// built after the sandbox forbids open(), so seed it now.
	json_object_seed(0);
	if (!c_.no_seccomp) sandbox::drop_capabilities();
	std::vector<std::thread> threads = start_vcpus();
	seal(threads);
	serve();
	unsigned stuck = stop_vcpus(threads);
	console_->flush();
	return report(stuck);
}

}  // namespace

Report run_vm(const VmConfig& c, uint64_t start_ns) {
	auto m = std::make_unique<Machine>(c, start_ns);
	Report r = m->run();
	// A vCPU thread left behind still uses the machine: leak it, the
	// process is about to exit.
	if (r.stuck_vcpus) (void)m.release();
	return r;
}

}  // namespace bencher::vmm
