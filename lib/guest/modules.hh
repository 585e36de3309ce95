// modules.hh: the kernel modules an initramfs brings (bencher-vmtest with a
// distribution kernel): where lib/vmtest/initramfs puts them, and bencher-init
// loading them, in the listed order, before it needs vsock or virtio-fs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bencher::guest {

// In the initramfs: the modules, and "order" naming them one per line.
constexpr const char* kModulesDir = "/bencher/modules";
constexpr const char* kModulesOrder = "/bencher/modules/order";
constexpr size_t kMaxOrderBytes = 64u << 10;
constexpr size_t kMaxModulesListed = 256;

// Parses the order file: file names (no '/', ending in .ko), one per line.
std::vector<std::string> parse_module_order(std::string_view text);

// The parameters the kernel command line gives module `name`
// ("virtio_mmio.device=4K@0xd0000000:5" -> "device=4K@0xd0000000:5"), as
// modprobe passes them: the kernel keeps such words for modules loaded later.
// '-' and '_' in the module name are the same; quoted words stay whole.
std::string module_params(std::string_view cmdline, std::string_view name);

// Loads every module the order file names (none when there is no file),
// with its parameters from `cmdline` (/proc/cmdline), skipping any the kernel
// already has (EEXIST); a failure names the module. Returns how many were
// loaded.
size_t load_modules(const std::string& dir = kModulesDir, const std::string& cmdline_file = "/proc/cmdline");

}  // namespace bencher::guest
