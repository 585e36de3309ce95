// device.cc: the queue pumps of device.hh.
#include "vmm/virtio/vsock/device.hh"

#include <cstring>
#include <mutex>

#include "common/log.hh"
#include "vsock/control.hh"

namespace bencher::vmm::virtio {

Vsock::Vsock(EventLoop& loop, UniqueFd control, uint64_t guest_cid)
    : guest_cid_(guest_cid),
      mux_(loop, std::move(control), guest_cid,
           {[this](const std::function<void()>& work) { serve(work); }, [this] { return t_ && t_->active(); }}) {}

void Vsock::read_config(uint64_t offset, uint8_t* data, size_t len) {
	uint64_t cid = guest_cid_;
	if (offset < 8) std::memcpy(data, reinterpret_cast<uint8_t*>(&cid) + offset, std::min<size_t>(len, 8 - offset));
}

void Vsock::notify(Transport&, uint16_t queue) {
	if (queue == kTxQ) process_tx();
	// New RX buffers, or a TX batch that queued replies: deliver what waits.
	process_rx();
}

void Vsock::serve(const std::function<void()>& work) {
	if (!t_) return;
	std::lock_guard lock(t_->lock());
	work();
	process_rx();
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
			std::string err = parse_tx(mem, c, guest_cid_, bencher::vsock::kHostCid, p);
			if (err.empty()) {
				mux_.send_pkt(p);
			} else {
				BLOG_DEBUG("vsock: bad TX packet: %s", err.c_str());
				// Reset what the header names, unless it is itself a reset.
				if (p.header && p.hdr.op != kOpRst && p.hdr.src_cid == guest_cid_)
					mux_.reset({p.hdr.dst_port, p.hdr.src_port});
			}
		}
		q.push_used(mem, c.head, 0);
	}
	if (any) t_->signal_used(kTxQ);
}

void Vsock::process_rx() {
	if (!t_ || !t_->active()) return;
	Queue& q = t_->queue(kRxQ);
	const GuestMemory& mem = t_->mem();
	Chain ch;
	bool any = false;
	while (mux_.has_rx()) {
		auto r = q.pop(mem, ch);
		if (r == Queue::Pop::empty) break;
		any = true;
		if (r == Queue::Pop::bad || ch.writable_bytes() < sizeof(VsockHdr) || ch.readable_bytes() != 0) {
			q.push_used(mem, ch.head, 0);
			continue;
		}
		VsockHdr h;
		if (!mux_.recv_pkt(RxBuffer{mem, ch}, h)) {
			q.undo_pop();
			continue;
		}
		chain_write(mem, ch, 0, &h, sizeof h);
		q.push_used(mem, ch.head, static_cast<uint32_t>(sizeof h + h.len));
	}
	if (any) t_->signal_used(kRxQ);
}

}  // namespace bencher::vmm::virtio
