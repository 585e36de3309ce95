// system.cc: PID 1's chores in the guest (see system.hh).
#include "guest/system.hh"

#include <fcntl.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hh"
#include "common/log.hh"

namespace bencher::guest {

namespace {
constexpr uint16_t kBootTimerPort = 0x440;
}

void boot_timer_mark(uint8_t value) {
	if (ioperm(kBootTimerPort, 1, 1) == 0) {
		outb(value, kBootTimerPort);
		ioperm(kBootTimerPort, 1, 0);
	}
}

void mount_one(const char* src, const char* dir, const char* type, unsigned long flags, const char* data) {
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, data) < 0 && errno != EBUSY)
		BLOG_WARN("%s", errno_message(strprintf("mount %s on %s", type, dir), errno).c_str());
}

void guest_mounts() {
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	// Without /dev/console in the image the kernel gave us no fds 0-2.
	if (fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (fd >= 0) {
			for (int i = 0; i < 3; i++)
				if (fcntl(i, F_GETFD) < 0) dup2(fd, i);
			if (fd > 2) ::close(fd);
		}
	}
}

void power_off() {
	sync();
	// With the VMM, a reboot (i8042 reset, reboot=k) is the clean exit; the
	// mark first tells it this reset is a power-off, not a crash.
	boot_timer_mark(kCleanShutdownValue);
	reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	for (;;) pause();
}

}  // namespace bencher::guest
