// sandbox.cc: libcap and libseccomp behind sandbox.hh. The allowlist is what
// the run loop does: KVM ioctls, epoll, reads and writes on fds it holds,
// sockets passed over the vsock control channel, thread wakeups, memory the
// allocator needs, and exit.
#include "vmm/sandbox/sandbox.hh"

#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::vmm::sandbox {

void drop_capabilities() {
	// Nothing left to inherit or regain through exec. The bounding set goes
	// first, while CAP_SETPCAP (which dropping from it takes) may still be
	// ours; without it (an ordinary user) the kernel says EPERM and there
	// is nothing to drop. A kernel older than our headers knows fewer
	// capabilities: EINVAL past its last.
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0) continue;
		if (errno == EPERM || errno == EINVAL) break;
		fail_errno(strprintf("drop capability %d from the bounding set", c));
	}
	// EINVAL: a kernel without ambient capabilities, so none to clear.
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail_errno("clear ambient capabilities");
	cap_t caps = cap_init();  // all sets empty
	if (!caps) fail_errno("cap_init");
	int r = cap_set_proc(caps);
	int err = errno;
	cap_free(caps);
	if (r < 0) fail_errno("drop capabilities", err);
}

void apply_seccomp() {
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) fail("seccomp_init failed");
	ScopeGuard release([&] { seccomp_release(ctx); });
	static const int allowed[] = {
	    SCMP_SYS(ioctl), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	    SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(lseek),
	    SCMP_SYS(fdatasync), SCMP_SYS(fsync), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	    SCMP_SYS(fcntl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	    SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	    SCMP_SYS(socketpair), SCMP_SYS(shutdown), SCMP_SYS(setsockopt),
	    SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(timerfd_settime),
	    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(tgkill), SCMP_SYS(getpid),
	    SCMP_SYS(gettid), SCMP_SYS(restart_syscall), SCMP_SYS(madvise), SCMP_SYS(munmap),
	    SCMP_SYS(mmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(mprotect),
	    SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(getrandom), SCMP_SYS(rseq),
	    SCMP_SYS(set_robust_list), SCMP_SYS(sigaltstack),
	};
	for (int sc : allowed)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc, 0) < 0) fail(strprintf("seccomp_rule_add %d failed", sc));
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0) fail("seccomp: TSYNC not supported");
	int r = seccomp_load(ctx);
	if (r < 0) fail_errno("seccomp_load", -r);
}

}  // namespace bencher::vmm::sandbox
