// vsock.cc: the vsock device, connection state machine and muxer of vsock.hh.
#include "vmm/virtio/vsock.hh"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
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
	for (auto& [k, c] : conns_)
		if (c->registered) loop_.remove(c->fd.get());
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
	ctrl_.clear();
}

void Vsock::notify(Transport&, uint16_t queue) {
	if (queue == kTxQ) process_tx();
	// New RX buffers, or a TX batch that queued replies: deliver what waits.
	process_rx();
}

VsockHdr Vsock::conn_hdr(Conn& c, uint16_t op, uint32_t flags) {
	VsockHdr h;
	h.src_cid = ctl::kHostCid;
	h.dst_cid = guest_cid_;
	h.src_port = c.key.first;
	h.dst_port = c.key.second;
	h.type = kVsockTypeStream;
	h.op = op;
	h.flags = flags;
	h.buf_alloc = kBufAlloc;
	h.fwd_cnt = c.fwd_cnt;
	c.reported_fwd_cnt = c.fwd_cnt;
	return h;
}

void Vsock::queue_ctrl(const VsockHdr& h) {
	BLOG_DEBUG("vsock: host %s %u->%u flags %u fwd_cnt %u", op_name(h.op), h.src_port, h.dst_port, h.flags, h.fwd_cnt);
	// A guest that sends without ever posting RX buffers cannot grow this.
	if (ctrl_.size() >= kMaxCtrl) return;
	ctrl_.push_back(h);
}

void Vsock::queue_reply(uint16_t op, uint32_t host_port, uint32_t guest_port, uint32_t flags) {
	VsockHdr h;
	h.src_cid = ctl::kHostCid;
	h.dst_cid = guest_cid_;
	h.src_port = host_port;
	h.dst_port = guest_port;
	h.type = kVsockTypeStream;
	h.op = op;
	h.flags = flags;
	h.buf_alloc = kBufAlloc;
	queue_ctrl(h);
}

void Vsock::remove(Key k) {
	auto it = conns_.find(k);
	if (it == conns_.end()) return;
	if (it->second->registered) loop_.remove(it->second->fd.get());
	conns_.erase(it);
}

void Vsock::reset_conn(Key k) {
	auto it = conns_.find(k);
	if (it != conns_.end()) {
		if (it->second->state == Conn::State::awaiting_guest) send_control(uint16_t(ctl::MsgType::connect_failed), *it->second);
		remove(k);
	}
	queue_reply(kOpRst, k.first, k.second);
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

void Vsock::update_interest(Conn& c) {
	if (c.state != Conn::State::established) return;
	uint32_t want = 0;
	if (!c.host_eof && !c.readable && !c.closing) want |= EPOLLIN;
	if (c.pending_off < c.pending.size()) want |= EPOLLOUT;
	if (want == 0) {
		// epoll reports EPOLLHUP whatever the mask: a socket the host has
		// closed would wake the loop again and again. Stop watching it.
		if (c.registered) loop_.remove(c.fd.get());
		c.registered = false;
		c.interest = 0;
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
	if (c.fwd_cnt - c.reported_fwd_cnt >= kBufAlloc / 4) queue_ctrl(conn_hdr(c, kOpCreditUpdate));
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
	Key k = c.key;
	try_finish(c);
	auto it = conns_.find(k);
	if (it != conns_.end()) update_interest(*it->second);
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
	if (c) {
		c->peer_buf_alloc = h.buf_alloc;
		c->peer_fwd_cnt = h.fwd_cnt;
	}
	switch (h.op) {
	case kOpRequest: {
		if (c || !control_ || conns_.size() >= kMaxConns) {
			queue_reply(kOpRst, k.first, k.second);
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
			queue_reply(kOpRst, k.first, k.second);
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
		if (conns_.count(k)) update_interest(*c);
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
	case kOpCreditUpdate:
		if (!c) {
			reset_conn(k);
			return;
		}
		c->credit_requested = false;
		return;
	case kOpCreditRequest:
		if (!c) {
			reset_conn(k);
			return;
		}
		queue_ctrl(conn_hdr(*c, kOpCreditUpdate));
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
				if (c.readable_bytes() >= sizeof(VsockHdr) && p.hdr.op != kOpRst && p.hdr.src_cid == guest_cid_)
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
					queue_ctrl(conn_hdr(c, kOpCreditRequest));
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
		Conn* c = ctrl_.empty() ? pick_readable() : nullptr;
		if (ctrl_.empty() && !c) break;
		auto r = q.pop(mem, ch);
		if (r == Queue::Pop::empty) break;
		any = true;
		if (r == Queue::Pop::bad || ch.writable_bytes() < sizeof(VsockHdr) || ch.readable_bytes() != 0) {
			q.push_used(mem, ch.head, 0);
			continue;
		}
		if (!ctrl_.empty()) {
			chain_write(mem, ch, 0, &ctrl_.front(), sizeof(VsockHdr));
			ctrl_.pop_front();
			q.push_used(mem, ch.head, sizeof(VsockHdr));
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
			Key k = c->key;
			try_finish(*c);
			if (conns_.count(k)) update_interest(*c);
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
	if (it == conns_.end()) return;
	Conn& c = *it->second;
	if (events & EPOLLOUT) {
		flush(c);
		if (!conns_.count(k)) {
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
			queue_ctrl(conn_hdr(*c, kOpResponse));
			update_interest(*c);
		} else if (type == ctl::MsgType::host_connect) {
			Key k{m.host_port, m.guest_port};
			auto conn = std::make_unique<Conn>();
			conn->state = Conn::State::awaiting_guest;
			conn->id = m.conn_id;
			conn->key = k;
			conn->fd = std::move(fd);
			if (!t_->active() || conns_.count(k) || conns_.size() >= kMaxConns) {
				try {
					send_control(uint16_t(ctl::MsgType::connect_failed), *conn);
				} catch (const Error&) {
				}
				continue;
			}
			int fl = fcntl(conn->fd.get(), F_GETFL);
			fcntl(conn->fd.get(), F_SETFL, fl | O_NONBLOCK);
			queue_ctrl(conn_hdr(*conn, kOpRequest));
			conns_[k] = std::move(conn);
		} else {
			BLOG_WARN("vsock control: unexpected %s", ctl::msg_type_name(m.type));
		}
	}
	process_rx();
}

}  // namespace bencher::vmm::virtio
