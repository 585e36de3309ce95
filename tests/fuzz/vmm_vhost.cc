// Fuzz target: bencher-vmm's vhost-user frontend reading a hostile backend.
// The input is everything the backend sends, queued on the socket before
// the frontend speaks; the frontend then runs the whole conversation
// (handshake, features, memory table, one ring, its stop) over it. Any
// reply may be short, oversize, for another request or a lie: each must
// end in an Error, never a crash, an overread or a hang.
// fuzz-sources: lib/vmm/vhost/protocol.cc lib/vmm/vhost/frontend.cc lib/common/error.cc lib/common/fd.cc
// fuzz-pkgs:
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "common/error.hh"
#include "common/fd.hh"
#include "vmm/vhost/frontend.hh"

using namespace bencher;
using namespace bencher::vmm::vhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	if (size > 65536) return 0;  // the socket's buffer holds it all
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 0;
	UniqueFd backend(sv[1]);
	int bufsize = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
	if (size && send(sv[1], data, size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) return 0;
	shutdown(sv[1], SHUT_WR);  // past the input: EOF, not a wait
	Frontend fe(UniqueFd(sv[0]), "fuzz", 1000);
	UniqueFd efd(dup(sv[0]));
	try {
		fe.handshake(2);
		fe.set_features(1ull << 32);
		fe.set_mem_table({{0, 4096, 0x10000, 0}}, {efd.get()});
		Frontend::Ring r;
		r.index = 1;
		r.size = 256;
		r.kick_fd = r.call_fd = efd.get();
		fe.start_ring(r);
		fe.stop_ring(1);
	} catch (const Error&) {
	}
	return 0;
}
