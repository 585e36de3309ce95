// vsock-test-host: the host end of bencher-vmm's vsock control channel for
// the boot tests (collect-results' role, reduced). It runs COMMAND with the
// VMM end of a control socketpair at fd 3, accepts every guest connection
// and echoes (default) or sinks its bytes; with --host-connect PORT:MIB it
// also connects to a guest port and sends MIB MiB. At the end it prints one
// line per connection on stderr: "HOST port=P in=N in_sum=X out=M" and
// exits with COMMAND's status.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/error.hh"
#include "vsock/control.hh"

using namespace bencher;

namespace {
uint64_t fnv(uint64_t h, const unsigned char* p, size_t n) {
	for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

double now() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Conn {
	UniqueFd fd;
	uint32_t port = 0;
	bool sink = false;
	std::string buf;  // echo: bytes to send back
	size_t in = 0, out = 0;
	uint64_t in_sum = 0xcbf29ce484222325ull;
	bool eof = false, done = false;
	size_t to_send = 0;  // host-initiated: bytes left to send
	double t0 = 0, t1 = 0;
};
}  // namespace

int main(int argc, char** argv) {
	return run_main("vsock-test-host", [&] {
		bool sink = false;
		uint32_t hc_port = 0, hc_mib = 0;
		int i = 1;
		for (; i < argc; i++) {
			std::string a = argv[i];
			if (a == "--sink") sink = true;
			else if (a == "--echo") sink = false;
			else if (a == "--host-connect" && i + 1 < argc) sscanf(argv[++i], "%u:%u", &hc_port, &hc_mib);
			else if (a == "--") { i++; break; }
			else fail_usage("unknown option " + a);
		}
		if (i >= argc) fail_usage("no command");
		signal(SIGPIPE, SIG_IGN);  // a guest that resets a connection is not our failure
		UniqueFd mine, theirs;
		vsock::control_pair(mine, theirs);
		pid_t pid = fork();
		if (pid == 0) {
			dup2(theirs.get(), 3);
			execvp(argv[i], argv + i);
			_exit(127);
		}
		theirs.reset();
		std::map<uint64_t, Conn> conns;
		uint64_t next_id = 1000;
		bool hc_sent = false, ctl_open = true;
		double start = now();
		std::vector<unsigned char> tmp(1 << 16);
		int status = 0;
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) break;
			if (hc_port && !hc_sent && now() - start > 0.5) {
				// Retry until the guest listens: a failed attempt is reported back.
				UniqueFd a, b;
				vsock::stream_pair(a, b);
				vsock::ControlMsg m;
				m.type = uint16_t(vsock::MsgType::host_connect);
				m.conn_id = next_id;
				m.host_port = 7000;
				m.guest_port = hc_port;
				vsock::send_msg(mine.get(), m, b.get());
				Conn c;
				c.fd = std::move(a);
				c.port = hc_port;
				c.sink = true;
				c.to_send = static_cast<size_t>(hc_mib) << 20;
				conns[next_id++] = std::move(c);
				hc_sent = true;
			}
			std::vector<pollfd> pfds;
			std::vector<uint64_t> ids;
			if (ctl_open) pfds.push_back({mine.get(), POLLIN, 0});
			for (auto& [id, c] : conns) {
				if (c.done) continue;
				short ev = 0;
				if (!c.eof && (c.sink || c.buf.size() < (1u << 20))) ev |= POLLIN;
				if (!c.buf.empty() || c.to_send) ev |= POLLOUT;
				pfds.push_back({c.fd.get(), ev, 0});
				ids.push_back(id);
			}
			int n = poll(pfds.data(), pfds.size(), 100);
			if (n <= 0) continue;
			size_t k = 0;
			if (ctl_open) {
				if (pfds[0].revents) {
					vsock::ControlMsg m;
					UniqueFd fd;
					if (!vsock::recv_msg(mine.get(), m, fd)) {
						ctl_open = false;
					} else if (m.type == uint16_t(vsock::MsgType::guest_connect)) {
						vsock::ControlMsg r = m;
						r.type = uint16_t(vsock::MsgType::accept);
						vsock::send_msg(mine.get(), r);
						Conn c;
						c.fd = std::move(fd);
						c.port = m.host_port;
						c.sink = sink;
						c.t0 = now();
						conns[m.conn_id] = std::move(c);
					} else if (m.type == uint16_t(vsock::MsgType::connect_failed)) {
						conns.erase(m.conn_id);
						hc_sent = false;
						start = now();
					} else if (m.type == uint16_t(vsock::MsgType::connected)) {
						conns[m.conn_id].t0 = now();
					}
				}
				k = 1;
			}
			for (size_t j = 0; j < ids.size(); j++) {
				auto it = conns.find(ids[j]);
				if (it == conns.end()) continue;
				Conn& c = it->second;
				short re = pfds[k + j].revents;
				if (re & (POLLIN | POLLHUP | POLLERR)) {
					ssize_t r = read(c.fd.get(), tmp.data(), tmp.size());
					if (r > 0) {
						c.in += r;
						c.in_sum = fnv(c.in_sum, tmp.data(), r);
						if (!c.sink) c.buf.append(reinterpret_cast<char*>(tmp.data()), r);
					} else if (r == 0 || (r < 0 && errno != EAGAIN)) {
						c.eof = true;
						c.t1 = now();
					}
				}
				if (re & POLLOUT) {
					if (!c.buf.empty()) {
						ssize_t r = write(c.fd.get(), c.buf.data(), c.buf.size());
						if (r > 0) {
							c.buf.erase(0, r);
							c.out += r;
						}
					} else if (c.to_send) {
						std::vector<unsigned char> d(std::min<size_t>(c.to_send, 65536), 0x33);
						ssize_t r = write(c.fd.get(), d.data(), d.size());
						if (r > 0) {
							c.to_send -= r;
							c.out += r;
							if (!c.to_send) shutdown(c.fd.get(), SHUT_WR);
						}
					}
				}
				if (c.eof && c.buf.empty() && !c.to_send && !c.done) {
					shutdown(c.fd.get(), SHUT_WR);
					c.done = true;
				}
			}
		}
		for (auto& [id, c] : conns) {
			double secs = (c.t1 > c.t0 ? c.t1 - c.t0 : 0);
			fprintf(stderr, "HOST port=%u in=%zu in_sum=%016llx out=%zu seconds=%.3f MBps=%.1f\n", c.port, c.in,
			        (unsigned long long)c.in_sum, c.out, secs, secs > 0 ? c.in / secs / 1e6 : 0.0);
		}
		if (WIFEXITED(status)) return WEXITSTATUS(status);
		return 128 + WTERMSIG(status);
	});
}
