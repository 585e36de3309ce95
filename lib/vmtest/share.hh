// share.hh: one host directory served to the guest over virtio-fs by QEMU's
// virtiofsd, sandboxed on its own, outside the VMM's jail: a private mount
// namespace in which a read-only share is a read-only bind mount (QEMU 7.2's
// virtiofsd has no read-only option), then virtiofsd's own pid/net/mount
// sandbox. The VMM gets only the connected end of its vhost-user socket.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/fd.hh"

namespace bencher::vmtest {

constexpr const char* kVirtiofsd = "/usr/lib/qemu/virtiofsd";

struct Share {
	std::string tag;     // the virtio-fs tag the guest mounts
	std::string source;  // host directory
	bool writable = false;
};

class Virtiofsd {
public:
	// Starts virtiofsd for `share` on a listening socket made in `dir` (a
	// private directory), connects to it and unlinks the path: the
	// connected end is socket(). Its messages go to `log`.
	Virtiofsd(const Share& share, const std::string& dir, const std::string& log);
	Virtiofsd(const Virtiofsd&) = delete;
	Virtiofsd& operator=(const Virtiofsd&) = delete;
	// Stops it (SIGTERM, then waits): every exit path ends it.
	~Virtiofsd();

	int socket() const { return conn_.get(); }
	const Share& share() const { return share_; }
	// Closes this process's end once the VMM holds its own copy.
	void close_socket() { conn_.reset(); }

private:
	void stop();

	Share share_;
	pid_t pid_ = -1;
	UniqueFd conn_;
};

}  // namespace bencher::vmtest
