// config.hh: bencher-vmm's options from the command line and vm.json
// (Options, where unset is unset), validated by finalize into VmConfig (plain
// typed fields, defaults filled in) before anything is opened. CLI flags
// override the JSON file; every file can also come as an fd.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bencher::vmm {

// The seed's line, plus quiet, and Firecracker's i8042 options and one
// UART: no probing of an AUX port, a multiplexer, PnP or the keyboard, nor
// of ttyS1-3 (each probe is a run of VM exits: boot to init in the TCG test
// host, median of 6, 3.0 s -> 2.5 s).
constexpr const char* kDefaultCmdline =
    "console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda rw quiet "
    "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=1";

struct FileArg {
	std::string path;  // or
	int fd = -1;
	bool set() const { return fd >= 0 || !path.empty(); }
	std::string name() const;  // for messages
};

enum class RootfsMode { rw, ro, cow };

// --virtiofs TAG=FD: a virtio-fs device the guest mounts by TAG, served by
// the vhost-user backend at the other end of the connected socket FD.
struct VirtiofsArg {
	std::string tag;
	int fd = -1;
};
constexpr size_t kMaxVirtiofs = 8;

struct Options {
	FileArg kernel, rootfs, initrd, console, report;
	FileArg kvm;  // default /dev/kvm; --kvm-fd lets a jail keep /dev/kvm out of reach
	std::optional<std::string> rootfs_mode;  // rw | ro | cow
	std::optional<int> vsock_fd;
	std::vector<VirtiofsArg> virtiofs;
	std::optional<uint32_t> vcpus;
	std::optional<uint64_t> memory_mib;
	std::optional<uint64_t> timeout_s;
	std::optional<std::string> cmdline_append, cmdline_replace;
	std::optional<uint64_t> console_limit;
	bool verbose = false, no_seccomp = false, no_cmdline_devices = false;
	std::string config_path;
};

// The options as the VM is built from them.
struct VmConfig {
	FileArg kernel, rootfs, initrd, console, report, kvm;
	RootfsMode rootfs_mode = RootfsMode::rw;
	std::optional<int> vsock_fd;
	std::vector<VirtiofsArg> virtiofs;  // checked: 1-36 byte tags, unique, at most kMaxVirtiofs
	uint32_t vcpus = 1;
	uint64_t memory_mib = 512;
	uint64_t timeout_s = 300;  // 0: none
	std::optional<std::string> cmdline_append, cmdline_replace;
	uint64_t console_limit = 16u << 20;
	bool verbose = false, no_seccomp = false;
	// The virtio-mmio devices only in the ACPI tables, not also as
	// virtio_mmio.device= entries: for a kernel known to have ACPI, which
	// binds the DSDT's devices first and then prints an error per entry
	// whose range they hold (and could not map the entries' IRQs anyway).
	bool no_cmdline_devices = false;
};

// Parses argv (throws usage errors; --help/--version throw ExitRequest).
Options parse_args(int argc, char** argv);
// Fills the options the command line left unset from a vm.json document.
void merge_json(Options& o, const std::string& text, const std::string& source);
// Checks ranges and required options; fills defaults. Throws usage errors.
VmConfig finalize(const Options& o);
// The kernel command line: devices first (so a "--" in the user's part
// stays last; none with no_cmdline_devices), then the default or
// replacement, then the appended part.
std::string build_cmdline(const VmConfig& c, const std::string& devices);

}  // namespace bencher::vmm
