/* probe-init: PID 1 of the KVM probe's throw-away initramfs (tests/kvm-probe).
 * It proves the guest kernel reached user space under KVM: it prints a marker
 * on the console and reboots at once (the probe boots with reboot=t and QEMU's
 * -no-reboot, so a reboot ends the VM). Static, no libc beyond syscalls. */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static const char marker[] = "BENCHER-KVM-PROBE-OK\n";

int main(void)
{
	/* The kernel opens /dev/console for init when the initramfs has it (the
	 * built-in default initramfs does); otherwise fall back to devtmpfs. */
	if (fcntl(1, F_GETFD) < 0) {
		mkdir("/dev", 0755);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
		int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
		if (fd >= 0 && fd != 1)
			dup2(fd, 1);
	}
	ssize_t n = write(1, marker, sizeof marker - 1);
	(void)n;
	sync();
	reboot(RB_AUTOBOOT);
	/* If reboot is refused, returning from PID 1 panics, and panic=-1
	 * reboots at once: the VM ends either way. */
	return 0;
}
