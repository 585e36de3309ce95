// event_loop.cc: epoll behind event_loop.hh.
#include "vmm/event_loop.hh"

#include <cerrno>

#include "common/error.hh"

namespace bencher::vmm {

EventLoop::EventLoop() {
	int fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0) fail_errno("epoll_create1");
	ep_.reset(fd);
}

void EventLoop::add(int fd, uint32_t events, Handler h) {
	epoll_event ev{};
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) fail_errno("epoll_ctl add");
	handlers_[fd] = std::make_shared<Handler>(std::move(h));
}

void EventLoop::modify(int fd, uint32_t events) {
	epoll_event ev{};
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) fail_errno("epoll_ctl mod");
}

void EventLoop::remove(int fd) {
	epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
	handlers_.erase(fd);
}

void EventLoop::run_once(int timeout_ms) {
	epoll_event evs[32];
	int n = epoll_wait(ep_.get(), evs, 32, timeout_ms);
	if (n < 0) {
		if (errno == EINTR) return;
		fail_errno("epoll_wait");
	}
	for (int i = 0; i < n && !stopped_; i++) {
		auto it = handlers_.find(evs[i].data.fd);
		if (it == handlers_.end()) continue;
		auto h = it->second;  // keeps it alive if it removes itself
		(*h)(evs[i].events);
	}
}

}  // namespace bencher::vmm
