// vsock.cc: the vsock device, connection state machine and muxer of vsock.hh.
#include "vmm/virtio/vsock.hh"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/error.hh"
#include "common/log.hh"
#include "vsock/control.hh"

namespace bencher::vmm::virtio {

namespace ctl = bencher::vsock;

Vsock::Vsock(EventLoop& loop, UniqueFd control, uint64_t guest_cid)
    : loop_(loop), control_(std::move(control)), guest_cid_(guest_cid) {
	if (control_) {
		int fl = fcntl(control_.get(), F_GETFL);
		fcntl(control_.get(), F_SETFL, fl | O_NONBLOCK);
		loop_.add(control_.get(), EPOLLIN, [this](uint32_t) { on_control(); });
	}
}

Vsock::~Vsock() {
	for (auto& [k, c] : conns_) unwatch(*c);
	if (control_) loop_.remove(control_.get());
}

void Vsock::read_config(uint64_t offset, uint8_t* data, size_t len) {
	uint64_t cid = guest_cid_;
	if (offset < 8) std::memcpy(data, reinterpret_cast<uint8_t*>(&cid) + offset, std::min<size_t>(len, 8 - offset));
}

void Vsock::activate(Transport& t) { t_ = &t; }

void Vsock::reset() {
	std::vector<Key> keys;
	for (auto& [k, c] : conns_) keys.push_back(k);
	for (auto& k : keys) remove(k);
	stray_rst_.clear();
}

void Vsock::notify(Transport&, uint16_t queue) {
	if (queue == kTxQ) process_tx();
	// New RX buffers, or a TX batch that queued replies: deliver what waits.
	process_rx();
}

VsockHdr Vsock::host_hdr(Key k, uint16_t op, uint32_t flags) const {
	VsockHdr h;
	h.src_cid = ctl::kHostCid;
	h.dst_cid = guest_cid_;
	h.src_port = k.first;
	h.dst_port = k.second;
	h.type = kVsockTypeStream;
	h.op = op;
	h.flags = flags;
	h.buf_alloc = kBufAlloc;
	return h;
}

// Made as the packet goes into an RX buffer: the guest hears the fwd_cnt of now.
VsockHdr Vsock::conn_hdr(Conn& c, uint16_t op, uint32_t flags) {
	VsockHdr h = host_hdr(c.key, op, flags);
	h.fwd_cnt = c.fwd_cnt;
	c.reported_fwd_cnt = c.fwd_cnt;
	return h;
}

// A connection's control packets are flags, not queued packets: a guest
// that posts no RX buffers makes the device owe at most one of each per
// connection, and none is dropped (a lost CREDIT_UPDATE stalls the guest's
// sender for good: Linux never asks for credit).
void Vsock::owe(Conn& c, uint8_t what) {
	c.owed |= what;
	owing_.insert(c.key);
}

void Vsock::reply_rst(Key k) {
	// A guest that sends without ever posting RX buffers cannot grow this.
	if (stray_rst_.size() >= kMaxStrayRst && !stray_rst_.count(k)) {
		BLOG_DEBUG("vsock: no room for a reset to %u->%u", k.first, k.second);
		return;
	}
	stray_rst_.insert(k);
}

// The next control packet for the guest: stray resets first, then what
// each connection owes, in key order.
bool Vsock::next_ctrl(VsockHdr& h) {
	if (!stray_rst_.empty()) {
		h = host_hdr(*stray_rst_.begin(), kOpRst);
		stray_rst_.erase(stray_rst_.begin());
	} else {
		Conn* c = nullptr;
		while (!c && !owing_.empty()) {
			auto it = conns_.find(*owing_.begin());
			if (it != conns_.end() && it->second->owed) c = it->second.get();
			else owing_.erase(owing_.begin());
		}
		if (!c) return false;
		// The op of each Owe bit, lowest first.
		static constexpr uint16_t kOps[] = {kOpRst, kOpRequest, kOpResponse, kOpCreditUpdate, kOpCreditRequest};
		static_assert(kOweRst == 1 << 0 && kOweRequest == 1 << 1 && kOweResponse == 1 << 2 &&
		              kOweCreditUpdate == 1 << 3 && kOweCreditRequest == 1 << 4);
		int i = std::countr_zero(c->owed);
		c->owed = static_cast<uint8_t>(c->owed & ~(1u << i));
		if (!c->owed) owing_.erase(c->key);
		h = conn_hdr(*c, kOps[i]);
		if (kOps[i] == kOpRst && c->state == Conn::State::closed) remove(c->key);
	}
	BLOG_DEBUG("vsock: host %s %u->%u fwd_cnt %u", op_name(h.op), h.src_port, h.dst_port, h.fwd_cnt);
	return true;
}

void Vsock::remove(Key k) {
	auto it = conns_.find(k);
	if (it == conns_.end()) return;
	unwatch(*it->second);
	owing_.erase(k);
	conns_.erase(it);
}

void Vsock::reset_conn(Key k) {
	auto it = conns_.find(k);
	if (it == conns_.end()) {
		reply_rst(k);
		return;
	}
	Conn& c = *it->second;
	if (c.state == Conn::State::closed) return;  // its RST is owed already
	if (c.state == Conn::State::awaiting_guest) send_control(uint16_t(ctl::MsgType::connect_failed), c);
	unwatch(c);
	c.fd.reset();
	c.pending.clear();
	c.pending.shrink_to_fit();
	c.pending_off = 0;
	c.readable = false;
	c.state = Conn::State::closed;
	// Counted in kMaxConns until the guest has the RST, so what is owed
	// stays bounded; anything else it owed is moot.
	c.owed = 0;
	owe(c, kOweRst);
}

void Vsock::send_control(uint16_t type, const Conn& c, int fd) {
	if (!control_) return;
	ctl::ControlMsg m;
	m.type = type;
	m.conn_id = c.id;
	m.host_port = c.key.first;
	m.guest_port = c.key.second;
	m.guest_cid = static_cast<uint32_t>(guest_cid_);
	ctl::send_msg(control_.get(), m, fd);
}

void Vsock::unwatch(Conn& c) {
	if (c.registered) loop_.remove(c.fd.get());
	c.registered = false;
	c.interest = 0;
}

void Vsock::update_interest(Conn& c) {
	if (c.state != Conn::State::established) return;
	uint32_t want = 0;
	if (!c.host_eof && !c.readable && !c.closing) want |= EPOLLIN;
	if (c.pending_off < c.pending.size()) want |= EPOLLOUT;
	if (want == 0) {
		// epoll reports EPOLLHUP whatever the mask: a socket the host has
		// closed would wake the loop again and again. Stop watching it.
		unwatch(c);
		return;
	}
	if (!c.registered) {
		Key k = c.key;
		loop_.add(c.fd.get(), want, [this, k](uint32_t ev) { on_host_event(k, ev); });
		c.registered = true;
		c.interest = want;
	} else if (want != c.interest) {
		loop_.modify(c.fd.get(), want);
		c.interest = want;
	}
}

void Vsock::credit_check(Conn& c) {
	if (c.fwd_cnt - c.reported_fwd_cnt >= kBufAlloc / 4) owe(c, kOweCreditUpdate);
}

void Vsock::flush(Conn& c) {
	while (c.pending_off < c.pending.size()) {
		ssize_t n = ::send(c.fd.get(), c.pending.data() + c.pending_off, c.pending.size() - c.pending_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && errno == EAGAIN) break;
		if (n <= 0) {
			reset_conn(c.key);
			return;
		}
		c.pending_off += static_cast<size_t>(n);
		c.fwd_cnt += static_cast<uint32_t>(n);
	}
	if (c.pending_off == c.pending.size()) {
		c.pending.clear();
		c.pending.shrink_to_fit();
		c.pending_off = 0;
	}
	credit_check(c);
	try_finish(c);
	update_interest(c);  // nothing to watch if it closed
}

void Vsock::try_finish(Conn& c) {
	if (c.pending_off < c.pending.size()) return;
	if (c.closing || (c.guest_shut_send && c.host_eof)) {
		reset_conn(c.key);
		return;
	}
	if (c.guest_shut_send && !c.shut_wr) {
		::shutdown(c.fd.get(), SHUT_WR);
		c.shut_wr = true;
	}
}

void Vsock::handle(const TxPacket& p) {
	const VsockHdr& h = p.hdr;
	Key k{h.dst_port, h.src_port};
	BLOG_DEBUG("vsock: guest %s %u->%u len %u flags %u buf_alloc %u fwd_cnt %u", op_name(h.op), h.src_port,
	           h.dst_port, h.len, h.flags, h.buf_alloc, h.fwd_cnt);
	auto it = conns_.find(k);
	Conn* c = it == conns_.end() ? nullptr : it->second.get();
	if (c && c->state == Conn::State::closed) {
		// Its RST is on the way and answers anything else. A RST or a new
		// REQUEST says the guest has let go of it already: a RST delivered
		// now would only reset the new connection.
		if (h.op != kOpRst && h.op != kOpRequest) return;
		remove(k);
		c = nullptr;
	}
	if (c) {
		// Only news of the guest's window lets us ask for credit again: an
		// answer that tells nothing new would have us ask again at once,
		// and the two sides trade CREDIT_REQUEST and CREDIT_UPDATE for as
		// long as the guest's reader sleeps. Its kernel reports on its own
		// once the reader frees the window.
		if (h.buf_alloc != c->peer_buf_alloc || h.fwd_cnt != c->peer_fwd_cnt) c->credit_requested = false;
		c->peer_buf_alloc = h.buf_alloc;
		c->peer_fwd_cnt = h.fwd_cnt;
	}
	switch (h.op) {
	case kOpRequest: {
		// A stray RST still owed on these ports answered a socket the guest
		// has let go of; delivered after this it would reset the new one.
		if (!c) stray_rst_.erase(k);
		if (c || !control_ || conns_.size() >= kMaxConns) {
			reply_rst(k);
			return;
		}
		auto conn = std::make_unique<Conn>();
		conn->state = Conn::State::awaiting_host;
		conn->id = next_id_++;
		conn->key = k;
		conn->peer_buf_alloc = h.buf_alloc;
		conn->peer_fwd_cnt = h.fwd_cnt;
		UniqueFd theirs;
		try {
			ctl::stream_pair(conn->fd, theirs);
			int fl = fcntl(conn->fd.get(), F_GETFL);
			fcntl(conn->fd.get(), F_SETFL, fl | O_NONBLOCK);
			int sz = kBufAlloc;
			setsockopt(conn->fd.get(), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
			send_control(uint16_t(ctl::MsgType::guest_connect), *conn, theirs.get());
		} catch (const Error& e) {
			BLOG_WARN("vsock: guest connection to port %u: %s", k.first, e.what());
			reply_rst(k);
			return;
		}
		conns_[k] = std::move(conn);
		return;
	}
	case kOpResponse:
		if (!c || c->state != Conn::State::awaiting_guest) {
			reset_conn(k);
			return;
		}
		c->state = Conn::State::established;
		try {
			send_control(uint16_t(ctl::MsgType::connected), *c);
		} catch (const Error& e) {
			BLOG_WARN("vsock: %s", e.what());
		}
		update_interest(*c);
		return;
	case kOpRst:
		if (c) {
			if (c->state == Conn::State::awaiting_guest) {
				try {
					send_control(uint16_t(ctl::MsgType::connect_failed), *c);
				} catch (const Error&) {
				}
			}
			remove(k);
		}
		return;
	case kOpShutdown:
		if (!c || c->state != Conn::State::established) {
			reset_conn(k);
			return;
		}
		if (h.flags & kShutdownSend) c->guest_shut_send = true;
		if ((h.flags & (kShutdownSend | kShutdownRcv)) == (kShutdownSend | kShutdownRcv)) c->closing = true;
		try_finish(*c);
		update_interest(*c);
		return;
	case kOpRw: {
		if (!c || c->state != Conn::State::established || c->guest_shut_send || c->closing) {
			reset_conn(k);
			return;
		}
		size_t pending = c->pending.size() - c->pending_off;
		if (h.len > kBufAlloc - pending) {  // beyond the credit we gave
			reset_conn(k);
			return;
		}
		size_t done = 0;
		if (pending == 0 && !p.payload.empty()) {
			msghdr mh{};
			mh.msg_iov = const_cast<iovec*>(p.payload.data());
			mh.msg_iovlen = p.payload.size();
			ssize_t n;
			do n = ::sendmsg(c->fd.get(), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			while (n < 0 && errno == EINTR);
			if (n < 0 && errno != EAGAIN) {
				reset_conn(k);
				return;
			}
			if (n > 0) done = static_cast<size_t>(n);
		}
		c->fwd_cnt += static_cast<uint32_t>(done);
		size_t skip = done;
		for (const auto& v : p.payload) {
			if (skip >= v.iov_len) {
				skip -= v.iov_len;
				continue;
			}
			c->pending.append(static_cast<const char*>(v.iov_base) + skip, v.iov_len - skip);
			skip = 0;
		}
		credit_check(*c);
		update_interest(*c);
		return;
	}
	case kOpCreditUpdate:  // the window, taken above
		if (!c) reset_conn(k);
		return;
	case kOpCreditRequest:
		if (!c) {
			reset_conn(k);
			return;
		}
		owe(*c, kOweCreditUpdate);
		return;
	default:
		return;
	}
}

void Vsock::process_tx() {
	if (!t_) return;
	Queue& q = t_->queue(kTxQ);
	const GuestMemory& mem = t_->mem();
	Chain c;
	TxPacket p;
	bool any = false;
	for (;;) {
		auto r = q.pop(mem, c);
		if (r == Queue::Pop::empty) break;
		any = true;
		if (r == Queue::Pop::ok) {
			std::string err = parse_tx(mem, c, guest_cid_, ctl::kHostCid, p);
			if (err.empty()) {
				handle(p);
			} else {
				BLOG_DEBUG("vsock: bad TX packet: %s", err.c_str());
				// Reset what the header names, unless it is itself a reset.
				if (p.header && p.hdr.op != kOpRst && p.hdr.src_cid == guest_cid_)
					reset_conn({p.hdr.dst_port, p.hdr.src_port});
			}
		}
		q.push_used(mem, c.head, 0);
	}
	if (any) t_->signal_used(kTxQ);
}

Vsock::Conn* Vsock::pick_readable() {
	if (conns_.empty()) return nullptr;
	auto start = conns_.upper_bound(rr_);
	for (int pass = 0; pass < 2; pass++) {
		auto b = pass == 0 ? start : conns_.begin();
		auto e = pass == 0 ? conns_.end() : start;
		for (auto it = b; it != e; ++it) {
			Conn& c = *it->second;
			if (!c.readable || c.state != Conn::State::established) continue;
			if (c.credit() == 0) {
				if (!c.credit_requested) {
					c.credit_requested = true;
					owe(c, kOweCreditRequest);
				}
				continue;
			}
			rr_ = it->first;
			return &c;
		}
	}
	return nullptr;
}

void Vsock::process_rx() {
	if (!t_ || !t_->active()) return;
	Queue& q = t_->queue(kRxQ);
	const GuestMemory& mem = t_->mem();
	Chain ch;
	bool any = false;
	std::vector<iovec> iov;
	for (;;) {
		bool ctrl = has_ctrl();
		Conn* c = ctrl ? nullptr : pick_readable();
		if (!c && !(ctrl = has_ctrl())) break;  // (picking may owe a credit request)
		auto r = q.pop(mem, ch);
		if (r == Queue::Pop::empty) break;
		any = true;
		if (r == Queue::Pop::bad || ch.writable_bytes() < sizeof(VsockHdr) || ch.readable_bytes() != 0) {
			q.push_used(mem, ch.head, 0);
			continue;
		}
		if (ctrl) {
			VsockHdr h;
			if (!next_ctrl(h)) {
				q.undo_pop();
				continue;
			}
			chain_write(mem, ch, 0, &h, sizeof h);
			q.push_used(mem, ch.head, sizeof h);
			continue;
		}
		uint64_t cap = std::min<uint64_t>({c->credit(), ch.writable_bytes() - sizeof(VsockHdr), kMaxPktPayload});
		iov.clear();
		chain_iovecs(mem, ch, true, sizeof(VsockHdr), cap, iov);
		ssize_t n = iov.empty() ? 0 : ::readv(c->fd.get(), iov.data(), static_cast<int>(iov.size()));
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			c->readable = false;
			update_interest(*c);
			q.undo_pop();
			continue;
		}
		if (n < 0) {
			q.undo_pop();
			reset_conn(c->key);
			continue;
		}
		if (n == 0 && cap > 0) {  // the host closed its side
			c->readable = false;
			c->host_eof = true;
			VsockHdr h = conn_hdr(*c, kOpShutdown, kShutdownSend);
			chain_write(mem, ch, 0, &h, sizeof h);
			q.push_used(mem, ch.head, sizeof h);
			try_finish(*c);
			update_interest(*c);
			continue;
		}
		VsockHdr h = conn_hdr(*c, kOpRw);
		h.len = static_cast<uint32_t>(n);
		c->rx_cnt += static_cast<uint32_t>(n);
		chain_write(mem, ch, 0, &h, sizeof h);
		q.push_used(mem, ch.head, static_cast<uint32_t>(sizeof h + n));
	}
	if (any) t_->signal_used(kRxQ);
}

void Vsock::on_host_event(const Key& k, uint32_t events) {
	std::lock_guard lock(t_->lock());
	auto it = conns_.find(k);
	// (A dispatch begun before a reset on a vCPU thread removed it.)
	if (it == conns_.end() || it->second->state == Conn::State::closed) return;
	Conn& c = *it->second;
	if (events & EPOLLOUT) {
		flush(c);
		if (c.state == Conn::State::closed) {
			process_rx();
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (!c.host_eof) c.readable = true;
		update_interest(c);
	}
	process_rx();
}

void Vsock::on_control() {
	if (!t_) return;
	std::lock_guard lock(t_->lock());
	// A bounded batch per wakeup; the socket is level-triggered.
	for (int batch = 0; batch < 64 && control_; batch++) {
		char peek;
		ssize_t avail = ::recv(control_.get(), &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (avail < 0 && (errno == EAGAIN || errno == EINTR)) break;
		ctl::ControlMsg m;
		UniqueFd fd;
		try {
			if (!ctl::recv_msg(control_.get(), m, fd)) {
				loop_.remove(control_.get());
				control_.reset();
				break;
			}
		} catch (const Error& e) {
			BLOG_WARN("vsock control: %s", e.what());
			if (avail < 0) {  // a socket error, not a bad message: stop listening
				loop_.remove(control_.get());
				control_.reset();
				break;
			}
			continue;
		}
		auto type = static_cast<ctl::MsgType>(m.type);
		if (type == ctl::MsgType::accept || type == ctl::MsgType::refuse) {
			Conn* c = nullptr;
			for (auto& [k, v] : conns_)
				if (v->id == m.conn_id && v->state == Conn::State::awaiting_host) c = v.get();
			if (!c) continue;
			if (type == ctl::MsgType::refuse) {
				reset_conn(c->key);
				continue;
			}
			c->state = Conn::State::established;
			owe(*c, kOweResponse);
			update_interest(*c);
		} else if (type == ctl::MsgType::host_connect) {
			Key k{m.host_port, m.guest_port};
			auto conn = std::make_unique<Conn>();
			conn->state = Conn::State::awaiting_guest;
			conn->id = m.conn_id;
			conn->key = k;
			conn->fd = std::move(fd);
			// A connection on these ports that is closed and owes its RST
			// gives way: the new one sends that RST ahead of its REQUEST.
			auto old = conns_.find(k);
			bool closed = old != conns_.end() && old->second->state == Conn::State::closed;
			if (!t_->active() || (old != conns_.end() && !closed) || conns_.size() - closed >= kMaxConns) {
				try {
					send_control(uint16_t(ctl::MsgType::connect_failed), *conn);
				} catch (const Error&) {
				}
				continue;
			}
			if (closed) remove(k);
			int fl = fcntl(conn->fd.get(), F_GETFL);
			fcntl(conn->fd.get(), F_SETFL, fl | O_NONBLOCK);
			Conn& c = *conn;
			conns_[k] = std::move(conn);
			owe(c, closed ? kOweRst | kOweRequest : kOweRequest);
		} else {
			BLOG_WARN("vsock control: unexpected %s", ctl::msg_type_name(m.type));
		}
	}
	process_rx();
}

}  // namespace bencher::vmm::virtio
