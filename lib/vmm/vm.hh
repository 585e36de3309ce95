// vm.hh: the VM as one straight sequence (Firecracker's
// build_microvm_for_boot): open and check the inputs, build memory, load the
// kernel, create devices and vCPUs, drop privileges, run until the guest
// resets, faults, times out or is cancelled, and say which.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/exit_codes.hh"
#include "vmm/config.hh"

namespace bencher::vmm {

// bencher-vmm's exit codes beyond 0/1/2: the toolchain's one table.
enum VmExit : int {
	kExitTimeout = exit_codes::kVmmTimeout,
	kExitCancelled = exit_codes::kVmmCancelled,
	kExitPanic = exit_codes::kVmmPanic,
	kExitFault = exit_codes::kVmmFault,
};

struct Report {
	std::string outcome = "error";  // poweroff|reboot|timeout|cancelled|panic|triple_fault|error
	int exit_code = 1;
	std::optional<double> boot_to_init_ms;
	double run_ms = 0;
	uint64_t console_bytes = 0;
	std::string detail;  // for error outcomes: what happened
	unsigned stuck_vcpus = 0;  // vCPU threads that never left KVM_RUN
	// On a timeout or cancel: each virtio device's and queue's state, so a
	// guest stuck on a device says which and how.
	std::vector<std::string> devices;
};

std::string report_json(const Report& r);

// Runs the VM. `start_ns` is the process start on CLOCK_MONOTONIC. Setup
// errors throw; once the guest runs, everything ends in a Report.
Report run_vm(const VmConfig& c, uint64_t start_ns);

uint64_t monotonic_ns();

}  // namespace bencher::vmm
