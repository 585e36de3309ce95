// connection.cc: the state machine of connection.hh.
#include "vmm/virtio/vsock/connection.hh"

#include <sys/epoll.h>

#include <bit>
#include <cerrno>

namespace bencher::vmm::virtio {

VsockConnection::VsockConnection(VsockKey key, uint64_t id, uint64_t guest_cid, State state,
                                 std::unique_ptr<HostStream> stream, const VsockHdr& window)
    : key_(key), id_(id), guest_cid_(guest_cid), state_(state), stream_(std::move(stream)),
      peer_buf_alloc_(window.buf_alloc), peer_fwd_cnt_(window.fwd_cnt) {}

// Made as the packet goes into an RX buffer: the guest hears the fwd_cnt of now.
VsockHdr VsockConnection::header(uint16_t op, uint32_t flags) {
	VsockHdr h = host_hdr(key_, guest_cid_, op, flags);
	h.fwd_cnt = fwd_cnt_;
	reported_fwd_cnt_ = fwd_cnt_;
	return h;
}

uint32_t VsockConnection::interest() const {
	if (state_ != State::established || must_reset_) return 0;
	uint32_t want = 0;
	if (!host_eof_ && !readable_ && !closing_) want |= EPOLLIN;
	if (pending_off_ < pending_.size()) want |= EPOLLOUT;
	return want;
}

void VsockConnection::learn_window(const VsockHdr& h) {
	// Only news of the guest's window lets us ask for credit again: an
	// answer that tells nothing new would have us ask again at once, and
	// the two sides trade CREDIT_REQUEST and CREDIT_UPDATE for as long as
	// the guest's reader sleeps. Its kernel reports on its own once the
	// reader frees the window.
	if (h.buf_alloc != peer_buf_alloc_ || h.fwd_cnt != peer_fwd_cnt_) credit_requested_ = false;
	peer_buf_alloc_ = h.buf_alloc;
	peer_fwd_cnt_ = h.fwd_cnt;
}

void VsockConnection::guest_response() {
	if (state_ != State::awaiting_guest) return kill();
	state_ = State::established;
}

void VsockConnection::host_accepted() {
	state_ = State::established;
	owe(kOweResponse);
}

void VsockConnection::guest_rw(const std::vector<iovec>& payload, uint32_t len) {
	if (state_ != State::established || guest_shut_send_ || closing_) return kill();
	size_t queued = pending_.size() - pending_off_;
	if (len > kBufAlloc - queued) return kill();  // beyond the credit we gave
	size_t done = 0;
	if (queued == 0 && !payload.empty()) {
		ssize_t n = stream_->write(payload.data(), payload.size());
		if (n < 0 && errno != EAGAIN) return kill();
		if (n > 0) done = static_cast<size_t>(n);
	}
	fwd_cnt_ += static_cast<uint32_t>(done);
	for (const auto& v : payload) {
		if (done >= v.iov_len) {
			done -= v.iov_len;
			continue;
		}
		pending_.append(static_cast<const char*>(v.iov_base) + done, v.iov_len - done);
		done = 0;
	}
	credit_check();
}

void VsockConnection::guest_shutdown(uint32_t flags) {
	if (state_ != State::established) return kill();
	if (flags & kShutdownSend) guest_shut_send_ = true;
	if ((flags & (kShutdownSend | kShutdownRcv)) == (kShutdownSend | kShutdownRcv)) closing_ = true;
	try_finish();
}

void VsockConnection::host_ready(bool writable, bool readable) {
	if (writable) {
		flush();
		if (must_reset_) return;
	}
	if (readable && !host_eof_) readable_ = true;
}

void VsockConnection::credit_check() {
	if (fwd_cnt_ - reported_fwd_cnt_ >= kBufAlloc / 4) owe(kOweCreditUpdate);
}

void VsockConnection::flush() {
	while (pending_off_ < pending_.size()) {
		iovec v{pending_.data() + pending_off_, pending_.size() - pending_off_};
		ssize_t n = stream_->write(&v, 1);
		if (n < 0 && errno == EAGAIN) break;
		if (n <= 0) return kill();
		pending_off_ += static_cast<size_t>(n);
		fwd_cnt_ += static_cast<uint32_t>(n);
	}
	if (pending_off_ == pending_.size()) {
		pending_.clear();
		pending_.shrink_to_fit();
		pending_off_ = 0;
	}
	credit_check();
	try_finish();
}

void VsockConnection::try_finish() {
	if (pending_off_ < pending_.size()) return;
	if (closing_ || (guest_shut_send_ && host_eof_)) return kill();
	if (guest_shut_send_ && !shut_wr_) {
		stream_->shutdown_write();
		shut_wr_ = true;
	}
}

bool VsockConnection::next_owed(VsockHdr& h) {
	if (!owed_) return false;
	// The op of each Owe bit, lowest first.
	static constexpr uint16_t kOps[] = {kOpRst, kOpRequest, kOpResponse, kOpCreditUpdate, kOpCreditRequest};
	static_assert(kOweRst == 1 << 0 && kOweRequest == 1 << 1 && kOweResponse == 1 << 2 &&
	              kOweCreditUpdate == 1 << 3 && kOweCreditRequest == 1 << 4);
	int i = std::countr_zero(owed_);
	owed_ = static_cast<uint8_t>(owed_ & ~(1u << i));
	h = header(kOps[i]);
	return true;
}

bool VsockConnection::wants_rx() {
	if (!readable_ || state_ != State::established) return false;
	if (credit() > 0) return true;
	if (!credit_requested_) {
		credit_requested_ = true;
		owe(kOweCreditRequest);
	}
	return false;
}

bool VsockConnection::recv_data(const std::vector<iovec>& iov, VsockHdr& h) {
	ssize_t n = iov.empty() ? 0 : stream_->read(iov.data(), iov.size());
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		readable_ = false;
		return false;
	}
	if (n < 0) {
		kill();
		return false;
	}
	if (n == 0 && !iov.empty()) {  // the host closed its side
		readable_ = false;
		host_eof_ = true;
		h = header(kOpShutdown, kShutdownSend);
		try_finish();
		return true;
	}
	h = header(kOpRw);
	h.len = static_cast<uint32_t>(n);
	rx_cnt_ += static_cast<uint32_t>(n);
	return true;
}

void VsockConnection::close() {
	stream_.reset();
	pending_.clear();
	pending_.shrink_to_fit();
	pending_off_ = 0;
	readable_ = false;
	must_reset_ = false;
	state_ = State::closed;
	owed_ = kOweRst;
}

}  // namespace bencher::vmm::virtio
