// muxer.cc: the muxer of muxer.hh. Every entry point that touches a
// connection ends in sync(), which acts on what the connection asks for: a
// reset, the guest's attention for what it owes, the events to watch.
#include "vmm/virtio/vsock/muxer.hh"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>

#include "common/error.hh"
#include "common/log.hh"
#include "vsock/control.hh"

namespace bencher::vmm::virtio {

namespace ctl = bencher::vsock;
using State = VsockConnection::State;

void StrayResets::add(VsockKey k) {
	if (keys_.size() >= kMax && !keys_.count(k)) {
		BLOG_DEBUG("vsock: no room for a reset to %u->%u", k.first, k.second);
		return;
	}
	keys_.insert(k);
}

VsockKey StrayResets::take() {
	VsockKey k = *keys_.begin();
	keys_.erase(keys_.begin());
	return k;
}

VsockMuxer::VsockMuxer(EventLoop& loop, UniqueFd control, uint64_t guest_cid, Hooks hooks)
    : loop_(loop), control_(std::move(control)), guest_cid_(guest_cid), hooks_(std::move(hooks)) {
	if (!control_) return;
	int fl = fcntl(control_.get(), F_GETFL);
	if (fl < 0 || fcntl(control_.get(), F_SETFL, fl | O_NONBLOCK) < 0) fail_errno("vsock control: O_NONBLOCK");
	loop_.add(control_.get(), EPOLLIN, [this](uint32_t) { hooks_.serve([this] { on_control(); }); });
}

VsockMuxer::~VsockMuxer() {
	for (auto& [k, e] : conns_) unwatch(e);
	if (control_) loop_.remove(control_.get());
}

VsockConnection* VsockMuxer::find(VsockKey k) {
	auto it = conns_.find(k);
	return it == conns_.end() ? nullptr : it->second.conn.get();
}

void VsockMuxer::clear() {
	std::vector<VsockKey> keys;
	for (auto& [k, e] : conns_) keys.push_back(k);
	for (auto& k : keys) remove(k);
	stray_ = StrayResets();
}

void VsockMuxer::remove(VsockKey k) {
	auto it = conns_.find(k);
	if (it == conns_.end()) return;
	unwatch(it->second);
	owing_.erase(k);
	conns_.erase(it);
}

void VsockMuxer::reset(VsockKey k) {
	auto it = conns_.find(k);
	if (it == conns_.end()) {
		stray_.add(k);
		return;
	}
	VsockConnection& c = *it->second.conn;
	if (c.state() == State::closed) return;  // its RST is owed already
	if (c.state() == State::awaiting_guest) tell_host(ctl::MsgType::connect_failed, c.id(), c.key());
	unwatch(it->second);
	// Counted in kMaxConns until the guest has the RST, so what is owed
	// stays bounded; anything else it owed is moot.
	c.close();
	owing_.insert(c.key());
}

void VsockMuxer::sync(VsockConnection& c) {
	if (c.must_reset()) return reset(c.key());
	if (c.owed()) owing_.insert(c.key());
	auto it = conns_.find(c.key());
	if (it != conns_.end()) watch(it->second);
}

void VsockMuxer::watch(Entry& e) {
	uint32_t want = e.conn->interest();
	if (want == 0) {
		// epoll reports EPOLLHUP whatever the mask: a socket the host has
		// closed would wake the loop again and again. Stop watching it.
		unwatch(e);
		return;
	}
	if (!e.watched) {
		VsockKey k = e.conn->key();
		loop_.add(e.conn->stream()->fd(), want,
		          [this, k](uint32_t ev) { hooks_.serve([this, k, ev] { on_host_event(k, ev); }); });
		e.watched = true;
	} else if (want != e.interest) {
		loop_.modify(e.conn->stream()->fd(), want);
	}
	e.interest = want;
}

void VsockMuxer::unwatch(Entry& e) {
	if (e.watched) loop_.remove(e.conn->stream()->fd());
	e.watched = false;
	e.interest = 0;
}

void VsockMuxer::send_control(uint16_t type, uint64_t conn_id, VsockKey k, int fd) {
	if (!control_) return;
	ctl::ControlMsg m;
	m.type = type;
	m.conn_id = conn_id;
	m.host_port = k.first;
	m.guest_port = k.second;
	m.guest_cid = static_cast<uint32_t>(guest_cid_);
	ctl::send_msg(control_.get(), m, fd);
}

// News the host may miss: it learns of a failed connection from its
// stream's end too, so a control socket that fails here is only reported.
void VsockMuxer::tell_host(ctl::MsgType type, uint64_t conn_id, VsockKey k) {
	try {
		send_control(uint16_t(type), conn_id, k);
	} catch (const Error& e) {
		BLOG_WARN("vsock control: %s", e.what());
	}
}

void VsockMuxer::send_pkt(const TxPacket& p) {
	const VsockHdr& h = p.hdr;
	VsockKey k{h.dst_port, h.src_port};
	BLOG_DEBUG("vsock: guest %s %u->%u len %u flags %u buf_alloc %u fwd_cnt %u", op_name(h.op), h.src_port,
	           h.dst_port, h.len, h.flags, h.buf_alloc, h.fwd_cnt);
	VsockConnection* c = find(k);
	if (c && c->state() == State::closed) {
		// Its RST is on the way and answers anything else. A RST or a new
		// REQUEST says the guest has let go of it already: a RST delivered
		// now would only reset the new connection.
		if (h.op != kOpRst && h.op != kOpRequest) return;
		remove(k);
		c = nullptr;
	}
	if (h.op == kOpRequest) return guest_request(k, h);
	if (!c) {
		if (h.op != kOpRst) reset(k);
		return;
	}
	c->learn_window(h);
	guest_packet(*c, p);
}

void VsockMuxer::guest_packet(VsockConnection& c, const TxPacket& p) {
	switch (p.hdr.op) {
	case kOpResponse:
		c.guest_response();
		if (!c.must_reset()) tell_host(ctl::MsgType::connected, c.id(), c.key());
		break;
	case kOpRst:
		return guest_rst(c);
	case kOpShutdown:
		c.guest_shutdown(p.hdr.flags);
		break;
	case kOpRw:
		c.guest_rw(p.payload, p.hdr.len);
		break;
	case kOpCreditRequest:
		c.guest_credit_request();
		break;
	default:  // a CREDIT_UPDATE: the window, taken already
		break;
	}
	sync(c);
}

void VsockMuxer::guest_rst(VsockConnection& c) {
	if (c.state() == State::awaiting_guest) tell_host(ctl::MsgType::connect_failed, c.id(), c.key());
	remove(c.key());
}

void VsockMuxer::guest_request(VsockKey k, const VsockHdr& h) {
	VsockConnection* c = find(k);
	// A stray RST still owed on these ports answered a socket the guest
	// has let go of; delivered after this it would reset the new one.
	if (!c) stray_.forget(k);
	if (c) c->learn_window(h);
	if (c || !control_ || conns_.size() >= kMaxConns) {
		stray_.add(k);
		return;
	}
	try {
		UniqueFd mine, theirs;
		ctl::stream_pair(mine, theirs);
		auto conn = std::make_unique<VsockConnection>(k, next_id_++, guest_cid_, State::awaiting_host,
		                                              std::make_unique<SocketStream>(std::move(mine), kBufAlloc), h);
		send_control(uint16_t(ctl::MsgType::guest_connect), conn->id(), k, theirs.get());
		conns_[k].conn = std::move(conn);
	} catch (const Error& e) {
		BLOG_WARN("vsock: guest connection to port %u: %s", k.first, e.what());
		stray_.add(k);
	}
}

bool VsockMuxer::next_ctrl(VsockHdr& h) {
	if (!stray_.empty()) {
		h = host_hdr(stray_.take(), guest_cid_, kOpRst);
	} else {
		VsockConnection* c = nullptr;
		while (!c && !owing_.empty()) {
			c = find(*owing_.begin());
			if (!c || !c->owed()) {
				owing_.erase(owing_.begin());
				c = nullptr;
			}
		}
		if (!c) return false;
		c->next_owed(h);
		if (!c->owed()) owing_.erase(c->key());
		if (h.op == kOpRst && c->state() == State::closed) remove(c->key());
	}
	BLOG_DEBUG("vsock: host %s %u->%u fwd_cnt %u", op_name(h.op), h.src_port, h.dst_port, h.fwd_cnt);
	return true;
}

VsockConnection* VsockMuxer::pick_readable(bool advance) {
	if (conns_.empty()) return nullptr;
	auto start = conns_.upper_bound(rr_);
	for (int pass = 0; pass < 2; pass++) {
		auto b = pass == 0 ? start : conns_.begin();
		auto e = pass == 0 ? conns_.end() : start;
		for (auto it = b; it != e; ++it) {
			VsockConnection& c = *it->second.conn;
			if (c.wants_rx()) {
				if (advance) rr_ = it->first;
				return &c;
			}
			if (c.owed()) owing_.insert(c.key());  // (it may have asked for credit)
		}
	}
	return nullptr;
}

bool VsockMuxer::has_rx() {
	if (!stray_.empty() || !owing_.empty()) return true;
	// Looking may make a connection owe a credit request instead of data.
	return pick_readable(false) || !owing_.empty();
}

bool VsockMuxer::recv_pkt(const RxBuffer& buf, VsockHdr& h) {
	if ((!stray_.empty() || !owing_.empty()) && next_ctrl(h)) return true;
	VsockConnection* c = pick_readable(true);
	if (!c) return false;
	uint64_t cap = std::min<uint64_t>({c->credit(), buf.room(), kMaxPktPayload});
	buf.payload(cap, iov_);
	bool got = c->recv_data(iov_, h);
	sync(*c);
	return got;
}

void VsockMuxer::on_host_event(VsockKey k, uint32_t events) {
	VsockConnection* c = find(k);
	// (A dispatch begun before a reset on a vCPU thread removed it.)
	if (!c || c->state() == State::closed) return;
	c->host_ready(events & EPOLLOUT, events & (EPOLLIN | EPOLLHUP | EPOLLERR));
	sync(*c);
}

void VsockMuxer::stop_control() {
	loop_.remove(control_.get());
	control_.reset();
}

void VsockMuxer::on_control() {
	// A bounded batch per wakeup; the socket is level-triggered.
	for (int batch = 0; batch < 64 && control_; batch++) {
		char peek;
		ssize_t avail = ::recv(control_.get(), &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (avail < 0 && (errno == EAGAIN || errno == EINTR)) break;
		ctl::ControlMsg m;
		UniqueFd fd;
		try {
			if (!ctl::recv_msg(control_.get(), m, fd)) {
				stop_control();
				break;
			}
		} catch (const Error& e) {
			BLOG_WARN("vsock control: %s", e.what());
			if (avail < 0) {  // a socket error, not a bad message: stop listening
				stop_control();
				break;
			}
			continue;
		}
		auto type = static_cast<ctl::MsgType>(m.type);
		if (type == ctl::MsgType::accept || type == ctl::MsgType::refuse)
			host_answer(m.type, m.conn_id);
		else if (type == ctl::MsgType::host_connect)
			host_connect(m, std::move(fd));
		else
			BLOG_WARN("vsock control: unexpected %s", ctl::msg_type_name(m.type));
	}
}

void VsockMuxer::host_answer(uint16_t type, uint64_t conn_id) {
	VsockConnection* c = nullptr;
	for (auto& [k, e] : conns_)
		if (e.conn->id() == conn_id && e.conn->state() == State::awaiting_host) c = e.conn.get();
	if (!c) return;
	if (type == uint16_t(ctl::MsgType::refuse)) return reset(c->key());
	c->host_accepted();
	sync(*c);
}

void VsockMuxer::host_connect(const ctl::ControlMsg& m, UniqueFd fd) {
	VsockKey k{m.host_port, m.guest_port};
	// A connection on these ports that is closed and owes its RST gives
	// way: the new one sends that RST ahead of its REQUEST.
	VsockConnection* old = find(k);
	bool closed = old && old->state() == State::closed;
	std::unique_ptr<VsockConnection> conn;
	if (hooks_.guest_ready() && (!old || closed) && conns_.size() - closed < kMaxConns) {
		try {
			conn = std::make_unique<VsockConnection>(k, m.conn_id, guest_cid_, State::awaiting_guest,
			                                         std::make_unique<SocketStream>(std::move(fd)));
		} catch (const Error& e) {
			BLOG_WARN("vsock: host connection to guest port %u: %s", k.second, e.what());
		}
	}
	if (!conn) return tell_host(ctl::MsgType::connect_failed, m.conn_id, k);
	if (closed) remove(k);
	conn->owe(closed ? VsockConnection::kOweRst | VsockConnection::kOweRequest : VsockConnection::kOweRequest);
	VsockConnection& c = *conn;
	conns_[k].conn = std::move(conn);
	sync(c);
}

}  // namespace bencher::vmm::virtio
