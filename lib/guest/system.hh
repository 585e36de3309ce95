// system.hh: what only PID 1 of a guest does with the machine: the boot-timer
// marks on bencher-vmm's I/O port, the pseudo file systems, and the clean
// power-off at the end. Nothing here runs in test mode or in unit tests.
#pragma once

#include <cstdint>

namespace bencher::guest {

constexpr uint8_t kBootTimerValue = 0x7b;     // "init started"
constexpr uint8_t kCleanShutdownValue = 0x7c;  // "this reset is a clean power-off"

// Writes one byte to bencher-vmm's boot-timer port; harmless if the port is
// not ours to use (another VMM, or no privilege).
void boot_timer_mark(uint8_t value);

// Mounts a file system on `dir` (made if missing); a failure is logged,
// not fatal: a guest without /sys can still run its workload.
void mount_one(const char* src, const char* dir, const char* type, unsigned long flags, const char* data);

// /proc, /sys, /dev, /dev/shm, /run, /tmp, and fds 0-2 on the console when
// the kernel gave us none.
void guest_mounts();

// sync, mark the reset as clean, reboot (the VMM's clean exit).
[[noreturn]] void power_off();

}  // namespace bencher::guest
