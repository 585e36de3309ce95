// event_loop.hh: the one epoll loop that drives device I/O (queue
// notifications from ioeventfds, the vsock host sockets, the timeout and the
// stop signals). Callbacks run on the loop's thread, one at a time.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/fd.hh"

namespace bencher::vmm {

class EventLoop {
public:
	using Handler = std::function<void(uint32_t events)>;
	EventLoop();
	// add, modify and remove may be called from any thread: a vCPU thread
	// resets a device, which lets go of its fds. Once remove() returns the
	// handler is not called again, except that a dispatch the loop's thread
	// had already begun still runs: a handler removed from another thread
	// must look up what it serves under its device's lock.
	void add(int fd, uint32_t events, Handler h);
	void modify(int fd, uint32_t events);
	void remove(int fd);
	// Waits once (up to timeout_ms, -1 = forever) and dispatches what is ready.
	void run_once(int timeout_ms);
	void stop() { stopped_ = true; }
	bool stopped() const { return stopped_; }

private:
	UniqueFd ep_;
	std::mutex mu_;
	// Each add() gets a new token, which the epoll event carries instead of
	// the fd: an event for an fd removed earlier in the batch finds no
	// handler, and one for an fd number closed and added again in the
	// same batch does not reach the new handler.
	uint64_t next_token_ = 1;
	std::map<int, uint64_t> tokens_;  // by fd
	// Shared so a handler may remove itself while it runs.
	std::unordered_map<uint64_t, std::shared_ptr<Handler>> handlers_;
	std::atomic<bool> stopped_{false};
};

}  // namespace bencher::vmm
