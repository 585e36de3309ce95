// event_loop.hh: the one epoll loop that drives device I/O (queue
// notifications from ioeventfds, the vsock host sockets, the timeout and the
// stop signals). Callbacks run on the loop's thread, one at a time.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "common/fd.hh"

namespace bencher::vmm {

class EventLoop {
public:
	using Handler = std::function<void(uint32_t events)>;
	EventLoop();
	void add(int fd, uint32_t events, Handler h);
	void modify(int fd, uint32_t events);
	void remove(int fd);
	// Waits once (up to timeout_ms, -1 = forever) and dispatches what is ready.
	void run_once(int timeout_ms);
	void stop() { stopped_ = true; }
	bool stopped() const { return stopped_; }

private:
	UniqueFd ep_;
	// Handlers by fd; shared so a handler may remove itself while it runs.
	std::map<int, std::shared_ptr<Handler>> handlers_;
	bool stopped_ = false;
};

}  // namespace bencher::vmm
