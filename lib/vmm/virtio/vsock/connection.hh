// connection.hh: one vsock connection's state machine, Firecracker's csm/ in
// small: the credit each side grants the other (virtio 1.2, 5.10.6.3),
// shutdown in each direction, and the control packets it owes the guest.
// It works over a HostStream (stream.hh), so unit tests drive it with a fake
// stream; the muxer (muxer.hh) maps ports to connections and acts on what
// each one asks for (a reset, an RX buffer, the events to watch).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmm/virtio/vsock/packet.hh"
#include "vmm/virtio/vsock/stream.hh"

namespace bencher::vmm::virtio {

class VsockConnection {
public:
	// awaiting_host: the guest asked, the host has not answered yet;
	// awaiting_guest: the other way round. closed: the host stream is gone
	// and the guest is owed its RST; the muxer keeps the entry (and its
	// ports) until an RX buffer took that RST.
	enum class State { awaiting_host, awaiting_guest, established, closed };
	// Control packets owed to the guest, one bit each, sent before any data
	// in this order (lowest bit first). Flags, not queued packets: however
	// long the guest posts no RX buffers, the connection owes at most one
	// of each, and none is dropped (a lost CREDIT_UPDATE stalls the guest's
	// sender for good: Linux never asks for credit). Each packet is made
	// when an RX buffer takes it, so it carries the counters of that moment.
	enum Owe : uint8_t {
		kOweRst = 1,
		kOweRequest = 2,
		kOweResponse = 4,
		kOweCreditUpdate = 8,
		kOweCreditRequest = 16,
	};

	// `window`: the guest's buf_alloc and fwd_cnt from its REQUEST (zero for
	// a connection the host starts; its RESPONSE tells them).
	VsockConnection(VsockKey key, uint64_t id, uint64_t guest_cid, State state, std::unique_ptr<HostStream> stream,
	                const VsockHdr& window = {});

	const VsockKey& key() const { return key_; }
	uint64_t id() const { return id_; }
	State state() const { return state_; }
	const HostStream* stream() const { return stream_.get(); }
	// The state machine found the connection broken (a protocol violation,
	// a host stream error, both sides done): the muxer resets it.
	bool must_reset() const { return must_reset_; }
	uint8_t owed() const { return owed_; }
	void owe(uint8_t what) { owed_ |= what; }
	// Bytes the guest still has room for.
	uint32_t credit() const { return peer_buf_alloc_ - (rx_cnt_ - peer_fwd_cnt_); }
	// The epoll events the host stream should be watched for (0: none).
	uint32_t interest() const;

	// From the guest. Every packet carries its window.
	void learn_window(const VsockHdr& h);
	void guest_response();
	void guest_rw(const std::vector<iovec>& payload, uint32_t len);
	void guest_shutdown(uint32_t flags);
	void guest_credit_request() { owe(kOweCreditUpdate); }

	// From the host.
	void host_accepted();
	void host_ready(bool writable, bool readable);

	// To the guest: the next owed control packet, if any.
	bool next_owed(VsockHdr& h);
	// Whether there is host data and room for it in the guest's window;
	// with none, asks for credit once per window it learns of.
	bool wants_rx();
	// Reads host data into iov (at most credit() bytes) and fills h for it:
	// RW, or a SHUTDOWN at the host's end of file. False: nothing now.
	bool recv_data(const std::vector<iovec>& iov, VsockHdr& h);

	// Drops the host stream; the guest is owed its RST and nothing else.
	void close();

private:
	VsockHdr header(uint16_t op, uint32_t flags = 0);
	void flush();
	void credit_check();
	void try_finish();
	void kill() { must_reset_ = true; }

	VsockKey key_;
	uint64_t id_;
	uint64_t guest_cid_;
	State state_;
	std::unique_ptr<HostStream> stream_;
	uint32_t peer_buf_alloc_ = 0, peer_fwd_cnt_ = 0;
	uint32_t rx_cnt_ = 0;            // bytes given to the guest
	uint32_t fwd_cnt_ = 0;           // guest bytes passed on to the host
	uint32_t reported_fwd_cnt_ = 0;  // fwd_cnt as the guest last heard it
	std::string pending_;            // guest bytes the host stream has not taken yet
	size_t pending_off_ = 0;
	bool guest_shut_send_ = false, closing_ = false, host_eof_ = false, shut_wr_ = false;
	bool readable_ = false;
	bool credit_requested_ = false;  // since the guest last told of its window
	bool must_reset_ = false;
	uint8_t owed_ = 0;
};

}  // namespace bencher::vmm::virtio
