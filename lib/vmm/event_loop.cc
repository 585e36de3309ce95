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
	std::lock_guard lock(mu_);
	uint64_t token = next_token_++;
	epoll_event ev{};
	ev.events = events;
	ev.data.u64 = token;
	if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) fail_errno("epoll_ctl add");
	tokens_[fd] = token;
	handlers_[token] = std::make_shared<Handler>(std::move(h));
}

void EventLoop::modify(int fd, uint32_t events) {
	std::lock_guard lock(mu_);
	auto it = tokens_.find(fd);
	if (it == tokens_.end()) {
		errno = ENOENT;  // what epoll_ctl says of an fd it does not watch
		fail_errno("epoll_ctl mod");
	}
	epoll_event ev{};
	ev.events = events;
	ev.data.u64 = it->second;
	if (epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) fail_errno("epoll_ctl mod");
}

void EventLoop::remove(int fd) {
	std::lock_guard lock(mu_);
	// Its result does not matter: an fd epoll no longer holds (ENOENT) has
	// nothing to undo, and dispatch goes by the handler table below.
	(void)epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
	auto it = tokens_.find(fd);
	if (it == tokens_.end()) return;
	handlers_.erase(it->second);
	tokens_.erase(it);
}

void EventLoop::run_once(int timeout_ms) {
	epoll_event evs[32];
	int n = epoll_wait(ep_.get(), evs, 32, timeout_ms);
	if (n < 0) {
		if (errno == EINTR) return;
		fail_errno("epoll_wait");
	}
	for (int i = 0; i < n && !stopped_; i++) {
		uint64_t token = evs[i].data.u64;  // a copy: epoll_event is packed, the field misaligned
		std::shared_ptr<Handler> h;        // a copy: keeps it alive if it is removed while it runs
		{
			std::lock_guard lock(mu_);
			auto it = handlers_.find(token);
			if (it == handlers_.end()) continue;  // removed since epoll_wait
			h = it->second;
		}
		(*h)(evs[i].events);
	}
}

}  // namespace bencher::vmm
