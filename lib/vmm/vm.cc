// vm.cc: the build-and-run sequence of vm.hh. One thread per vCPU (each a
// KVM_RUN loop with a switch on the exit reason, as kvmtool's kvm-cpu.c),
// the calling thread runs the device event loop, which also watches the
// timeout, SIGTERM/SIGINT and the vCPUs' verdict.
#include "vmm/vm.hh"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "vmm/boot/cpu.hh"
#include "vmm/boot/layout.hh"
#include "vmm/boot/loader.hh"
#include "vmm/devices/i8042.hh"
#include "vmm/devices/serial.hh"
#include "vmm/event_loop.hh"
#include "vmm/kvm/kvm.hh"
#include "vmm/memory.hh"
#include "vmm/sandbox/sandbox.hh"
#include "vmm/virtio/block.hh"
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
constexpr size_t kMaxKernel = 512u << 20;
constexpr uint64_t kStopGraceNs = 5000000000;  // vCPUs must stop within 5 s

// What ended the run; the first verdict wins.
enum class Verdict { none, reset, triple_fault, kvm_error, timeout, cancelled, error };

struct State {
	std::atomic<int> verdict{static_cast<int>(Verdict::none)};
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> init_ns{0};
	std::atomic<bool> shutdown_requested{false};
	std::string detail;
	UniqueFd wake;  // eventfd: a vCPU reached a verdict
	bool decide(Verdict v, const std::string& why = "") {
		int none = static_cast<int>(Verdict::none);
		if (!verdict.compare_exchange_strong(none, static_cast<int>(v))) return false;
		detail = why;
		stop = true;
		uint64_t one = 1;
		if (::write(wake.get(), &one, sizeof one) < 0) {
		}
		return true;
	}
};

UniqueFd open_arg(const FileArg& f, int flags, const char* what) {
	if (f.fd >= 0) {
		int fd = fcntl(f.fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) fail_errno(strprintf("%s: fd %d", what, f.fd));
		return UniqueFd(fd);
	}
	try {
		return open_file(f.path, flags);
	} catch (const Error& e) {
		fail(strprintf("%s: %s", what, e.what()));
	}
}

// A kernel or initrd, mapped read-only. The loader reads the kernel's
// headers from the mapping and MappedMemory::place maps its segments into
// guest RAM from the same file, so a 10-20 MB vmlinux is neither read nor
// copied whole; the initrd is copied from the mapping. An empty file is an
// empty image (no mapping): the loaders say what is wrong with it.
struct Image {
	UniqueFd fd;
	Mapping map;
	const uint8_t* data() const { return map.bytes(); }
	size_t size() const { return map.size(); }
};

Image map_image(const FileArg& f, const char* what) {
	Image img;
	img.fd = open_arg(f, O_RDONLY, what);
	struct stat st;
	if (fstat(img.fd.get(), &st) < 0) fail_errno(what);
	if (!S_ISREG(st.st_mode)) fail(strprintf("%s: %s: not a regular file", what, f.name().c_str()));
	if (static_cast<uint64_t>(st.st_size) > kMaxKernel) fail(strprintf("%s: %s: larger than 512 MiB", what, f.name().c_str()));
	if (st.st_size > 0)
		img.map = Mapping::map(static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, img.fd.get(), 0, what);
	return img;
}

void kick_handler(int) {}

class Machine {
public:
	Machine(Options& o, uint64_t start_ns) : o_(o), start_ns_(start_ns) {}
	Report run();

private:
	void setup();
	void vcpu_loop(size_t i);
	void pio(kvm_run* r);
	void mmio(kvm_run* r);
	void add_virtio(virtio::Device& dev);

	Options& o_;
	uint64_t start_ns_;
	State st_;
	std::unique_ptr<kvm::Kvm> kvm_;
	std::unique_ptr<kvm::Vm> vm_;
	std::unique_ptr<MappedMemory> mem_;
	std::vector<std::unique_ptr<kvm::Vcpu>> vcpus_;
	UniqueFd console_fd_;
	std::unique_ptr<Console> console_;
	std::unique_ptr<Serial> serial_;
	std::unique_ptr<I8042> i8042_;
	std::unique_ptr<BootTimer> boot_timer_;
	EventLoop loop_;
	std::unique_ptr<virtio::Disk> disk_;
	std::unique_ptr<virtio::Block> block_;
	std::unique_ptr<virtio::Vsock> vsock_;
	std::vector<std::unique_ptr<virtio::Transport>> transports_;
	std::vector<UniqueFd> eventfds_;
	std::string devices_cmdline_;
	// Shared with the vCPU threads (see run()).
	std::atomic<bool> gate_{false};
	std::atomic<size_t> ready_{0};
	std::vector<std::atomic<bool>> done_;
};

void Machine::add_virtio(virtio::Device& dev) {
	size_t idx = transports_.size();
	uint64_t base = kMmioBase + idx * virtio::Transport::kSize;
	uint32_t irq = kFirstVirtioIrq + static_cast<uint32_t>(idx);
	UniqueFd irqfd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!irqfd) fail_errno("eventfd");
	vm_->irqfd(irqfd.get(), irq);
	int irq_raw = irqfd.get();
	auto t = std::make_unique<virtio::Transport>(dev, *mem_, [irq_raw] {
		uint64_t one = 1;
		if (::write(irq_raw, &one, sizeof one) < 0) {
		}
	});
	std::vector<int> notify_fds;
	for (uint16_t q = 0; q < dev.num_queues(); q++) {
		UniqueFd efd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
		if (!efd) fail_errno("eventfd");
		vm_->ioeventfd(efd.get(), base + 0x50, 4, q);
		virtio::Transport* tp = t.get();
		int raw = efd.get();
		loop_.add(raw, EPOLLIN, [tp, raw, q](uint32_t) {
			uint64_t v;
			if (::read(raw, &v, sizeof v) < 0) {
			}
			tp->notify(q);
		});
		notify_fds.push_back(raw);
		eventfds_.push_back(std::move(efd));
	}
	t->on_notify_write = [notify_fds](uint16_t q) {
		if (q >= notify_fds.size()) return;
		uint64_t one = 1;
		if (::write(notify_fds[q], &one, sizeof one) < 0) {
		}
	};
	eventfds_.push_back(std::move(irqfd));
	devices_cmdline_ += (devices_cmdline_.empty() ? "" : " ") + virtio::Transport::cmdline_entry(base, irq);
	transports_.push_back(std::move(t));
}

void Machine::setup() {
	// Inputs first: a bad file is reported before KVM is touched.
	Image kernel = map_image(o_.kernel, "kernel");
	Image initrd;
	if (o_.initrd.set()) initrd = map_image(o_.initrd, "initrd");
	UniqueFd rootfs;
	auto mode = *o_.rootfs_mode == "ro"    ? virtio::Disk::Mode::ro
	            : *o_.rootfs_mode == "cow" ? virtio::Disk::Mode::cow
	                                       : virtio::Disk::Mode::rw;
	if (o_.rootfs.set()) {
		rootfs = open_arg(o_.rootfs, mode == virtio::Disk::Mode::rw ? O_RDWR : O_RDONLY, "rootfs");
		disk_ = std::make_unique<virtio::Disk>(std::move(rootfs), mode);
	}
	UniqueFd vsock_ctl;
	if (o_.vsock_fd) {
		vsock_ctl = open_arg(FileArg{"", *o_.vsock_fd}, 0, "vsock");
		int type = 0;
		socklen_t len = sizeof type;
		if (getsockopt(vsock_ctl.get(), SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
			fail(strprintf("vsock: fd %d is not a SOCK_SEQPACKET socket", *o_.vsock_fd));
	}
	if (o_.console.path.empty()) {
		int fd = fcntl(o_.console.fd >= 0 ? o_.console.fd : 1, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) fail_errno("console");
		console_fd_.reset(fd);
	} else {
		try {
			console_fd_ = open_file(o_.console.path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		} catch (const Error& e) {
			fail(strprintf("console: %s", e.what()));
		}
	}

	kvm_ = std::make_unique<kvm::Kvm>(o_.kvm.set() ? open_arg(o_.kvm, O_RDWR, "kvm").release() : -1);
	for (long cap : {KVM_CAP_IRQCHIP, KVM_CAP_USER_MEMORY, KVM_CAP_IOEVENTFD, KVM_CAP_IRQFD, KVM_CAP_PIT2,
	                 KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_EXT_CPUID})
		if (kvm_->check_extension(cap) <= 0) fail(strprintf("/dev/kvm lacks capability %ld", cap));
	vm_ = std::make_unique<kvm::Vm>(*kvm_);
	vm_->set_tss_addr(0xfffbd000);
	vm_->set_identity_map_addr(0xfffbc000);
	vm_->create_irqchip();
	vm_->create_pit2();

	mem_ = std::make_unique<MappedMemory>(*o_.memory_mib << 20);
	uint32_t slot = 0;
	for (const auto& r : mem_->regions()) vm_->set_user_memory(slot++, r.gpa, r.size, r.host);

	auto k = boot::load_kernel(kernel.data(), kernel.size(), *mem_,
	                           [&](uint64_t gpa, uint64_t off, uint64_t filesz, uint64_t memsz) {
		                           mem_->place(kernel.data(), kernel.fd.get(), gpa, off, filesz, memsz);
	                           });
	kernel = Image();
	std::optional<boot::LoadedInitrd> rd;
	if (initrd.size() > 0) {
		uint64_t max = k.setup && k.setup->initrd_addr_max ? k.setup->initrd_addr_max : 0x7fffffff;
		rd = boot::load_initrd(initrd.data(), initrd.size(), *mem_, k.high, max);
		initrd = Image();
	}

	console_ = std::make_unique<Console>(console_fd_.get(), *o_.console_limit);
	serial_ = std::make_unique<Serial>(console_.get(), [this](int level) { vm_->irq_line(Serial::kIrq, level); });
	i8042_ = std::make_unique<I8042>(
	    [this](uint32_t irq) {
		    vm_->irq_line(irq, 1);
		    vm_->irq_line(irq, 0);
	    },
	    [this] { st_.decide(Verdict::reset); });
	boot_timer_ = std::make_unique<BootTimer>([this](uint8_t v) {
		if (v == BootTimer::kInitStarted) {
			uint64_t zero = 0;
			st_.init_ns.compare_exchange_strong(zero, monotonic_ns());
		} else if (v == BootTimer::kShutdownRequested) {
			st_.shutdown_requested = true;
		}
	});

	if (disk_) {
		block_ = std::make_unique<virtio::Block>(*disk_);
		add_virtio(*block_);
	}
	vsock_ = std::make_unique<virtio::Vsock>(loop_, std::move(vsock_ctl), vsock::kGuestCid);
	add_virtio(*vsock_);
	vsock_->attach(transports_.back().get());

	std::string cmdline = build_cmdline(o_, devices_cmdline_);
	BLOG_INFO("kernel command line: %s", cmdline.c_str());
	boot::write_cmdline(*mem_, cmdline);
	boot::write_boot_params(*mem_, k, cmdline.size(), rd ? &*rd : nullptr);
	boot::write_gdt(*mem_);
	boot::write_page_tables(*mem_);
	boot::write_mptable(*mem_, *o_.vcpus);

	kvm::CpuidList supported = kvm_->supported_cpuid();
	bool tsc_deadline = kvm_->check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	for (uint32_t i = 0; i < *o_.vcpus; i++) {
		auto v = std::make_unique<kvm::Vcpu>(*kvm_, *vm_, i);
		kvm::CpuidList c = supported;
		boot::setup_cpuid(c, i, *o_.vcpus, tsc_deadline);
		v->set_cpuid(c);
		boot::setup_lapic(*v);
		if (i == 0) boot::setup_long_mode(*v, k.entry);
		vcpus_.push_back(std::move(v));
	}
}

void Machine::pio(kvm_run* r) {
	auto* data = reinterpret_cast<uint8_t*>(r) + r->io.data_offset;
	uint16_t port = r->io.port;
	bool out = r->io.direction == KVM_EXIT_IO_OUT;
	for (uint32_t n = 0; n < r->io.count; n++, data += r->io.size) {
		if (port >= Serial::kBase && port < Serial::kBase + 8) {
			if (out)
				serial_->write(port - Serial::kBase, data[0]);
			else
				serial_->read(port - Serial::kBase, data);
		} else if (port == I8042::kData || port == I8042::kCommand) {
			if (out)
				i8042_->write(port, data[0]);
			else
				data[0] = i8042_->read(port);
		} else if (port == BootTimer::kPort && out) {
			boot_timer_->write(data[0]);
		} else if (!out) {
			std::memset(data, 0xff, r->io.size);
		}
	}
}

void Machine::mmio(kvm_run* r) {
	uint64_t a = r->mmio.phys_addr;
	if (a >= kMmioBase && a < kMmioBase + transports_.size() * virtio::Transport::kSize) {
		size_t idx = (a - kMmioBase) / virtio::Transport::kSize;
		uint64_t off = (a - kMmioBase) % virtio::Transport::kSize;
		size_t len = std::min<size_t>(r->mmio.len, 8);
		if (r->mmio.is_write)
			transports_[idx]->write(off, r->mmio.data, len);
		else
			transports_[idx]->read(off, r->mmio.data, len);
		return;
	}
	if (!r->mmio.is_write) std::memset(r->mmio.data, 0xff, sizeof r->mmio.data);
}

void Machine::vcpu_loop(size_t i) {
	kvm::Vcpu& v = *vcpus_[i];
	kvm_run* r = v.run_state();
	try {
		while (!st_.stop) {
			if (!v.run()) continue;
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
	} catch (const Error& e) {
		st_.decide(Verdict::error, strprintf("vCPU %zu: %s", i, e.what()));
	}
}

Report Machine::run() {
	// SIGTERM/SIGINT arrive as a signalfd on the loop; every thread blocks
	// them. The kick signal is left to interrupt KVM_RUN (no SA_RESTART).
	sigset_t stop_set;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa {};
	sa.sa_handler = kick_handler;
	sigaction(kKickSignal, &sa, nullptr);

	st_.wake.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!st_.wake) fail_errno("eventfd");
	setup();

	UniqueFd sigfd(signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!sigfd) fail_errno("signalfd");
	loop_.add(sigfd.get(), EPOLLIN, [&](uint32_t) {
		signalfd_siginfo si;
		if (::read(sigfd.get(), &si, sizeof si) > 0) st_.decide(Verdict::cancelled);
	});
	UniqueFd timer;
	if (*o_.timeout_s > 0) {
		timer.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
		if (!timer) fail_errno("timerfd_create");
		itimerspec its{};
		its.it_value.tv_sec = static_cast<time_t>(*o_.timeout_s);
		if (timerfd_settime(timer.get(), 0, &its, nullptr) < 0) fail_errno("timerfd_settime");
		loop_.add(timer.get(), EPOLLIN, [&](uint32_t) { st_.decide(Verdict::timeout); });
	}
	loop_.add(st_.wake.get(), EPOLLIN, [&](uint32_t) { loop_.stop(); });

	// jansson seeds its hash from /dev/urandom on first use; the report is
	// built after the sandbox forbids open(), so seed it now.
	json_object_seed(0);
	if (!o_.no_seccomp) sandbox::drop_capabilities();

	// The vCPU threads wait at a gate until the sandbox is complete. What
	// they touch lives in the Machine, which run_vm leaks if one is left
	// behind in KVM_RUN.
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
	// Thread start-up makes syscalls outside the allowlist (prctl for the
	// name): every thread gets past them before the filter goes on.
	for (size_t n = ready_.load(); n < threads.size(); n = ready_.load()) ready_.wait(n);
	try {
		if (!o_.no_seccomp) sandbox::apply_seccomp();
	} catch (const Error& e) {
		st_.decide(Verdict::error, e.what());
	}
	gate_ = true;
	gate_.notify_all();

	try {
		while (!loop_.stopped() && !st_.stop) loop_.run_once(-1);
	} catch (const Error& e) {
		st_.decide(Verdict::error, e.what());
	}
	st_.stop = true;
	// Kick every vCPU out of KVM_RUN until it notices the stop flag:
	// immediate_exit covers a thread about to enter, the signal one inside.
	// A vCPU that does not come out within the grace period (a host kernel
	// that never returns from KVM_RUN) is left behind rather than waited
	// for: the report is written and the process exits, which ends it.
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
	console_->flush();

	Report r;
	auto v = static_cast<Verdict>(st_.verdict.load());
	r.detail = st_.detail;
	switch (v) {
	case Verdict::reset:
		if (console_->saw_panic()) {
			r.outcome = "panic";
			r.exit_code = kExitPanic;
		} else {
			r.outcome = st_.shutdown_requested ? "poweroff" : "reboot";
			r.exit_code = 0;
		}
		break;
	case Verdict::triple_fault:
		r.outcome = console_->saw_panic() ? "panic" : "triple_fault";
		r.exit_code = console_->saw_panic() ? kExitPanic : kExitFault;
		break;
	case Verdict::kvm_error:
		r.outcome = "error";
		r.exit_code = kExitFault;
		break;
	case Verdict::timeout:
		r.outcome = "timeout";
		r.exit_code = kExitTimeout;
		break;
	case Verdict::cancelled:
		r.outcome = "cancelled";
		r.exit_code = kExitCancelled;
		break;
	default:
		r.outcome = "error";
		r.exit_code = kExitFailure;
		break;
	}
	if (uint64_t t = st_.init_ns.load()) r.boot_to_init_ms = static_cast<double>(t - start_ns_) / 1e6;
	r.run_ms = static_cast<double>(monotonic_ns() - start_ns_) / 1e6;
	r.console_bytes = console_->bytes();
	if (v == Verdict::timeout || v == Verdict::cancelled)
		for (auto& t : transports_) r.devices.push_back(t->describe());
	r.stuck_vcpus = stuck;
	if (stuck) {
		std::string what = strprintf("%u vCPU thread(s) did not leave KVM_RUN within %llu ms of the stop", stuck,
		                             (unsigned long long)(kStopGraceNs / 1000000));
		r.detail = r.detail.empty() ? what : r.detail + "; " + what;
	}
	return r;
}

}  // namespace

Report run_vm(Options& o, uint64_t start_ns) {
	auto m = std::make_unique<Machine>(o, start_ns);
	Report r = m->run();
	// A vCPU thread left behind still uses the machine: leak it, the
	// process is about to exit.
	if (r.stuck_vcpus) (void)m.release();
	return r;
}

}  // namespace bencher::vmm
