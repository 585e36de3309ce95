// inputs.cc: opening and checking what inputs.hh lists.
#include "vmm/inputs.hh"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/error.hh"

namespace bencher::vmm {

namespace {
constexpr size_t kMaxImage = 512u << 20;

Image map_image(const FileArg& f, const char* what) {
	Image img;
	img.fd = open_arg(f, O_RDONLY, what);
	struct stat st;
	if (fstat(img.fd.get(), &st) < 0) fail_errno(what);
	if (!S_ISREG(st.st_mode)) fail(strprintf("%s: %s: not a regular file", what, f.name().c_str()));
	if (static_cast<uint64_t>(st.st_size) > kMaxImage) fail(strprintf("%s: %s: larger than 512 MiB", what, f.name().c_str()));
	if (st.st_size > 0)
		img.map = Mapping::map(static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, img.fd.get(), 0, what);
	return img;
}

UniqueFd open_vsock(int fd) {
	UniqueFd sock = open_arg(FileArg{"", fd}, 0, "vsock");
	int type = 0;
	socklen_t len = sizeof type;
	if (getsockopt(sock.get(), SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		fail(strprintf("vsock: fd %d is not a SOCK_SEQPACKET socket", fd));
	return sock;
}

// A vhost-user connection is a connected AF_UNIX stream: the backend
// (virtiofsd) accepted it on its listening socket.
UniqueFd open_vhost_user(const VirtiofsArg& a) {
	const std::string what = "virtio-fs " + a.tag;
	UniqueFd sock = open_arg(FileArg{"", a.fd}, 0, what.c_str());
	int type = 0, domain = 0;
	socklen_t len = sizeof type;
	if (getsockopt(sock.get(), SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
	    getsockopt(sock.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX)
		fail(strprintf("%s: fd %d is not an AF_UNIX SOCK_STREAM socket", what.c_str(), a.fd));
	sockaddr_un peer{};
	socklen_t plen = sizeof peer;
	if (getpeername(sock.get(), reinterpret_cast<sockaddr*>(&peer), &plen) < 0)
		fail(strprintf("%s: fd %d is not connected to a vhost-user backend", what.c_str(), a.fd));
	return sock;
}

// Without a path the console is an fd: the one given, or stdout.
UniqueFd open_console(const FileArg& f) {
	if (!f.path.empty()) {
		try {
			return open_file(f.path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		} catch (const Error& e) {
			fail(strprintf("console: %s", e.what()));
		}
	}
	int fd = fcntl(f.fd >= 0 ? f.fd : 1, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) fail_errno("console");
	return UniqueFd(fd);
}
}  // namespace

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

Inputs open_inputs(const VmConfig& c) {
	Inputs in;
	in.kernel = map_image(c.kernel, "kernel");
	if (c.initrd.set()) in.initrd = map_image(c.initrd, "initrd");
	if (c.rootfs.set()) {
		int flags = c.rootfs_mode == RootfsMode::rw ? O_RDWR : O_RDONLY;
		in.disk = std::make_unique<virtio::Disk>(open_arg(c.rootfs, flags, "rootfs"), c.rootfs_mode);
	}
	if (c.vsock_fd) in.vsock = open_vsock(*c.vsock_fd);
	for (const auto& v : c.virtiofs) in.virtiofs.push_back({v.tag, open_vhost_user(v)});
	in.console = open_console(c.console);
	if (c.kvm.set()) in.kvm = open_arg(c.kvm, O_RDWR, "kvm");
	return in;
}

}  // namespace bencher::vmm
