// kmod.hh: what bencher-vmtest needs to know about a kernel before it boots
// one: its release string (from a bzImage or an ELF vmlinux), the modules it
// must load from the initramfs (modules.dep closure, minus modules.builtin),
// and what it lacks altogether (--check-kernel). Host side; every input here
// (kernel images, modules.dep) is untrusted and bounded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bencher::vmtest {

// The guest's needs, by module name, in the order init loads them: the
// virtio-mmio transport, vsock to the host, virtio-fs, the RAM overlay.
extern const std::vector<std::string> kGuestModules;

// "6.1.0-56-amd64" from the image's bytes: a bzImage's setup header
// kernel_version string, or the "Linux version X" banner of an ELF vmlinux.
std::string kernel_release_of(std::string_view image);
std::string kernel_release(const std::string& kernel_path);

// modules.dep: "kernel/a/x.ko: kernel/b/y.ko ...", one module per line.
struct DepEntry {
	std::string path;               // relative to the modules directory
	std::vector<std::string> deps;  // likewise
};
std::vector<DepEntry> parse_modules_dep(std::string_view text);
// modules.builtin: one relative .ko path per line; returns module names.
std::vector<std::string> parse_modules_builtin(std::string_view text);
// "kernel/fs/fuse/virtiofs.ko.xz" -> "virtiofs"; '-' reads as '_' as in the kernel.
std::string module_name(std::string_view path);

struct ModulePlan {
	std::vector<std::string> load;     // paths below the modules dir, dependencies first
	std::vector<std::string> builtin;  // wanted names the kernel has built in
	std::vector<std::string> missing;  // wanted names it has neither way
};
// The closure of `wanted` over modules.dep, each module after its
// dependencies, each once; a dependency loop is an error.
ModulePlan resolve_modules(const std::vector<std::string>& wanted, std::string_view modules_dep,
                           std::string_view modules_builtin);

// The modules directory of a kernel: `given` when not empty, else
// ../lib/modules/RELEASE beside the kernel (an unpacked kernel package),
// else /lib/modules/RELEASE; nullopt when none exists.
std::optional<std::string> find_modules_dir(const std::string& kernel_path, const std::string& release,
                                            const std::string& given = "");

// kGuestModules resolved in `modules_dir` (paths in `load` are absolute).
ModulePlan modules_needed(const std::string& release, const std::string& modules_dir);

struct KernelCheck {
	std::string release;
	std::string config_source;        // where the answers came from
	std::vector<std::string> lacks;   // one line each: what, and why it matters
	std::vector<std::string> unknown; // CONFIG_ names nothing could tell about (taken as present)
	std::vector<std::string> modules; // module names init will load from the initramfs
	bool acpi = false;                // finds bencher-vmm's devices through ACPI (known, not guessed)
	bool ok() const { return lacks.empty(); }
};
// What a kernel lacks for bencher-vmtest. Reads its configuration from the
// image (CONFIG_IKCONFIG), a config file beside it (config-RELEASE, config),
// and its modules directory; `modules_dir` "" finds it as above.
KernelCheck check_kernel(const std::string& kernel_path, const std::string& modules_dir = "");

// Whether KERNEL finds bencher-vmm's virtio-mmio devices through ACPI, from
// what is cheap to read before every boot: a config file beside it, its
// virtio_mmio module's info, an ELF vmlinux's embedded config (a bzImage's
// payload is not decompressed for this). false when none of them tells: the
// devices then stay on the command line as well, which a kernel without ACPI
// needs and one with ACPI survives, at the cost of an error line per device
// (bencher-vmm(1), DEVICE DESCRIPTION).
bool acpi_devices(const std::string& kernel, const std::string& release, const std::optional<std::string>& modules_dir,
                  const ModulePlan& plan);

// A regular file of at most `max` bytes (no device, no fifo).
std::string read_regular(const std::string& path, size_t max);
// A module's plain bytes: a .ko as it is, a .ko.xz, .ko.zst or .ko.gz
// decompressed (finit_module takes none of them compressed without
// CONFIG_MODULE_DECOMPRESS).
std::string read_module(const std::string& path);

// The kernel's embedded .config (CONFIG_IKCONFIG) from the image's bytes,
// decompressing a bzImage's payload first; nullopt when it has none.
std::optional<std::string> embedded_config(std::string_view image);

}  // namespace bencher::vmtest
