/* guest-test-init: a tiny static PID 1 for bencher-vmm's boot tests. It
 * marks its start on the boot-timer port, runs the commands given as its
 * arguments (the kernel passes what follows "--" on the command line), prints
 * one line per result on the console, then marks a clean shutdown and
 * reboots (reboot=k resets through the VMM's i8042).
 *
 * Commands: marker | nproc | meminfo | cat PATH | write PATH TEXT |
 *   vsock-echo PORT MIB (send MIB MiB to host PORT, read it all back,
 *   print both checksums and the throughput) | vsock-listen PORT (accept one
 *   host connection, print the checksum of what arrives) | panic | hang |
 *   noreboot (exit without the clean-shutdown mark: a panic) | dmesg (the
 *   kernel log as it stands, for boot profiles with a quiet console) |
 *   mount-virtiofs TAG DIR | ls DIR (the sorted names, one line) |
 *   readall PATH (read it whole: bytes, checksum, seconds of reading) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <dirent.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static FILE* con;

static void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char* fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vfprintf(con, fmt, ap);
	va_end(ap);
	fputc('\n', con);
	fflush(con);
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* FNV-1a, 64-bit: cheap and order-sensitive. */
static uint64_t fnv(uint64_t h, const unsigned char* p, size_t n) {
	for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

/* Reads fd to its end; returns the checksum, the byte count in *total. */
static uint64_t fnv_drain(int fd, size_t* total) {
	static unsigned char buf[1 << 20];
	uint64_t h = FNV_INIT;
	ssize_t n;
	*total = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		h = fnv(h, buf, n);
		*total += n;
	}
	return h;
}

static void fill(unsigned char* p, size_t n, uint64_t* state) {
	for (size_t i = 0; i < n; i++) {
		*state = *state * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (unsigned char)(*state >> 56);
	}
}

static int vsock_connect(unsigned port) {
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0) return -1;
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port};
	if (connect(s, (struct sockaddr*)&a, sizeof a) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static void vsock_echo(unsigned port, unsigned mib) {
	int s = vsock_connect(port);
	if (s < 0) {
		say("VSOCK-ERROR connect %u: %s", port, strerror(errno));
		return;
	}
	size_t total = (size_t)mib << 20, sent = 0, got = 0;
	static unsigned char out[65536], in[65536];
	uint64_t st = 42, hs = FNV_INIT, hr = FNV_INIT;
	double t0 = now(), t_sent = 0;
	/* Send and receive interleaved so neither direction's buffers fill. */
	fcntl(s, F_SETFL, O_NONBLOCK);
	size_t chunk = 0, off = 0;
	while (got < total) {
		if (sent < total) {
			if (off == chunk) {
				chunk = total - sent < sizeof out ? total - sent : sizeof out;
				fill(out, chunk, &st);
				hs = fnv(hs, out, chunk);
				off = 0;
			}
			ssize_t n = write(s, out + off, chunk - off);
			if (n > 0) {
				off += n;
				sent += n;
				if (sent == total) {
					t_sent = now();
					shutdown(s, SHUT_WR);
				}
			} else if (n < 0 && errno != EAGAIN) {
				say("VSOCK-ERROR write: %s", strerror(errno));
				break;
			}
		}
		ssize_t n = read(s, in, sizeof in);
		if (n > 0) {
			hr = fnv(hr, in, n);
			got += n;
		} else if (n == 0) {
			break;
		} else if (errno != EAGAIN) {
			say("VSOCK-ERROR read: %s", strerror(errno));
			break;
		} else if (sent == total) {
			usleep(100);
		}
	}
	double t1 = now();
	close(s);
	say("VSOCK-ECHO sent=%zu got=%zu sent_sum=%016llx got_sum=%016llx send_s=%.3f total_s=%.3f", sent, got,
	    (unsigned long long)hs, (unsigned long long)hr, t_sent - t0, t1 - t0);
}

static void vsock_send(unsigned port, unsigned mib) {
	int s = vsock_connect(port);
	if (s < 0) {
		say("VSOCK-ERROR connect %u: %s", port, strerror(errno));
		return;
	}
	static unsigned char out[65536];
	memset(out, 0x5a, sizeof out);
	size_t total = (size_t)mib << 20, sent = 0;
	double t0 = now();
	while (sent < total) {
		ssize_t n = write(s, out, total - sent < sizeof out ? total - sent : sizeof out);
		if (n <= 0) break;
		sent += n;
	}
	double t1 = now();
	close(s);
	say("VSOCK-SEND bytes=%zu seconds=%.3f MBps=%.1f", sent, t1 - t0, sent / (t1 - t0) / 1e6);
}

static void vsock_listen(unsigned port) {
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	if (s < 0 || bind(s, (struct sockaddr*)&a, sizeof a) < 0 || listen(s, 1) < 0) {
		say("VSOCK-ERROR listen %u: %s", port, strerror(errno));
		return;
	}
	say("VSOCK-LISTENING %u", port);
	int c = accept(s, NULL, NULL);
	if (c < 0) {
		say("VSOCK-ERROR accept: %s", strerror(errno));
		return;
	}
	size_t got;
	uint64_t h = fnv_drain(c, &got);
	say("VSOCK-RECEIVED bytes=%zu sum=%016llx", got, (unsigned long long)h);
	close(c);
	close(s);
}

static int by_name(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static void list_dir(const char* path) {
	DIR* d = opendir(path);
	if (!d) {
		say("LS-ERROR %s: %s", path, strerror(errno));
		return;
	}
	char* names[256];
	size_t n = 0;
	struct dirent* e;
	while ((e = readdir(d)) && n < 256)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	char line[4096] = "LS";
	for (size_t i = 0; i < n; i++) {
		strncat(line, " ", sizeof line - strlen(line) - 1);
		strncat(line, names[i], sizeof line - strlen(line) - 1);
		free(names[i]);
	}
	say("%s", line);
}

/* Times the read alone (the first, which goes to the device), then sums a
 * second pass from the page cache: the checksum is slow under emulation
 * and would hide the device's speed. */
static void read_all(const char* path) {
	static unsigned char buf[1 << 20];
	double t0 = now();
	int f = open(path, O_RDONLY);
	if (f < 0) {
		say("READALL-ERROR %s: %s", path, strerror(errno));
		return;
	}
	size_t total = 0;
	ssize_t n;
	while ((n = read(f, buf, sizeof buf)) > 0) total += n;
	double t1 = now();
	size_t again;
	uint64_t h = lseek(f, 0, SEEK_SET) == 0 ? fnv_drain(f, &again) : 0;
	close(f);
	say("READALL bytes=%zu sum=%016llx seconds=%.3f MBps=%.1f", total, (unsigned long long)h, t1 - t0,
	    total / (t1 - t0) / 1e6);
}

int main(int argc, char** argv) {
	if (ioperm(0x440, 1, 1) == 0) outb(0x7b, 0x440);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	int fd = open("/dev/console", O_WRONLY);
	con = fd >= 0 ? fdopen(fd, "w") : stdout;
	int reboot_at_end = 1;
	for (int i = 1; i < argc; i++) {
		const char* cmd = argv[i];
		if (!strcmp(cmd, "marker")) {
			say("BENCHER-TEST-MARKER");
		} else if (!strcmp(cmd, "nproc")) {
			say("NPROC=%ld", sysconf(_SC_NPROCESSORS_ONLN));
		} else if (!strcmp(cmd, "meminfo")) {
			FILE* f = fopen("/proc/meminfo", "r");
			char line[256];
			while (f && fgets(line, sizeof line, f))
				if (!strncmp(line, "MemTotal:", 9)) say("MEMTOTAL=%ld", strtol(line + 9, NULL, 10));
			if (f) fclose(f);
		} else if (!strcmp(cmd, "cat") && i + 1 < argc) {
			char buf[4096];
			int f = open(argv[++i], O_RDONLY);
			ssize_t n = f >= 0 ? read(f, buf, sizeof buf - 1) : -1;
			if (n < 0) {
				say("CAT-ERROR %s: %s", argv[i], strerror(errno));
			} else {
				buf[n] = 0;
				say("CAT %s", buf);
			}
			if (f >= 0) close(f);
		} else if (!strcmp(cmd, "write") && i + 2 < argc) {
			const char* path = argv[++i];
			const char* text = argv[++i];
			int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (f < 0 || write(f, text, strlen(text)) < 0 || fsync(f) < 0) {
				say("WRITE-ERROR %s: %s", path, strerror(errno));
			} else {
				say("WRITE-OK %s", path);
			}
			if (f >= 0) close(f);
			sync();
		} else if (!strcmp(cmd, "vsock-echo") && i + 2 < argc) {
			unsigned port = atoi(argv[i + 1]), mib = atoi(argv[i + 2]);
			i += 2;
			vsock_echo(port, mib);
		} else if (!strcmp(cmd, "vsock-send") && i + 2 < argc) {
			unsigned port = atoi(argv[i + 1]), mib = atoi(argv[i + 2]);
			i += 2;
			vsock_send(port, mib);
		} else if (!strcmp(cmd, "vsock-listen") && i + 1 < argc) {
			vsock_listen(atoi(argv[++i]));
		} else if (!strcmp(cmd, "panic") || !strcmp(cmd, "noreboot")) {
			reboot_at_end = 0;
		} else if (!strcmp(cmd, "dmesg")) {
			static char log[1 << 20];
			int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof log);
			if (n > 0) fwrite(log, 1, n, con);
			fflush(con);
		} else if (!strcmp(cmd, "mount-virtiofs") && i + 2 < argc) {
			const char* tag = argv[++i];
			const char* dir = argv[++i];
			mkdir(dir, 0755);
			if (mount(tag, dir, "virtiofs", 0, NULL) < 0)
				say("MOUNT-ERROR %s: %s", tag, strerror(errno));
			else
				say("MOUNT-OK %s", tag);
		} else if (!strcmp(cmd, "ls") && i + 1 < argc) {
			list_dir(argv[++i]);
		} else if (!strcmp(cmd, "readall") && i + 1 < argc) {
			read_all(argv[++i]);
		} else if (!strcmp(cmd, "hang")) {
			for (;;) pause();
		} else {
			say("UNKNOWN-COMMAND %s", cmd);
		}
	}
	if (!reboot_at_end) return 1; /* PID 1 exiting: "Attempted to kill init!" */
	sync();
	outb(0x7c, 0x440);
	reboot(RB_AUTOBOOT);
	return 0;
}
