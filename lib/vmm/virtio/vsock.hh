// vsock.hh: virtio-vsock (device 19) in userspace. The device model, the
// per-connection state machine (credit-based flow control, shutdown and
// reset) and the muxer that bridges each connection to one end of a unix
// socketpair handed to the host over the control socket of
// lib/vsock/control.hh. Runs on the event loop's thread; the guest's TX
// payload is written straight from guest memory, host data read straight
// into the guest's RX buffers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "common/fd.hh"
#include "vmm/event_loop.hh"
#include "vmm/virtio/mmio.hh"
#include "vmm/virtio/vsock_packet.hh"

namespace bencher::vmm::virtio {

class Vsock : public Device {
public:
	static constexpr uint32_t kBufAlloc = 1024 * 1024;  // our receive window per connection
	// Connections, counting those closed whose RST the guest has not been
	// given yet: what the device owes the guest is bounded by this.
	static constexpr size_t kMaxConns = 256;
	// Resets answering packets of no connection that wait for RX buffers;
	// past this (a guest that sends and posts no RX buffers) they are
	// dropped. Nothing a connection owes is ever dropped.
	static constexpr size_t kMaxStrayRst = 1024;
	enum Queues : uint16_t { kRxQ = 0, kTxQ = 1, kEvQ = 2 };

	// control: the SOCK_SEQPACKET control socket, or invalid for none (every
	// guest connection is then refused).
	Vsock(EventLoop& loop, UniqueFd control, uint64_t guest_cid);
	~Vsock() override;
	void attach(Transport* t) { t_ = t; }

	uint32_t device_id() const override { return 19; }
	uint64_t features() const override { return 0; }
	uint16_t num_queues() const override { return 3; }
	void read_config(uint64_t offset, uint8_t* data, size_t len) override;
	void activate(Transport& t) override;
	void notify(Transport& t, uint16_t queue) override;
	void reset() override;

	// Connections, with the closed ones whose RST the guest has not taken.
	size_t connections() const { return conns_.size(); }

private:
	using Key = std::pair<uint32_t, uint32_t>;  // (host port, guest port)
	// Control packets a connection owes the guest, one bit each, sent before
	// any data in this order (lowest bit first).
	enum Owe : uint8_t {
		kOweRst = 1,
		kOweRequest = 2,
		kOweResponse = 4,
		kOweCreditUpdate = 8,
		kOweCreditRequest = 16,
	};
	struct Conn {
		// closed: the host socket is gone and the guest is owed its RST; the
		// entry (and its key) stays until an RX buffer took the RST.
		enum class State { awaiting_host, awaiting_guest, established, closed } state;
		uint64_t id = 0;
		Key key;
		UniqueFd fd;
		uint32_t peer_buf_alloc = 0, peer_fwd_cnt = 0;
		uint32_t rx_cnt = 0;             // bytes given to the guest
		uint32_t fwd_cnt = 0;            // guest bytes passed on to the host
		uint32_t reported_fwd_cnt = 0;   // fwd_cnt as the guest last heard it
		std::string pending;             // guest bytes the host socket has not taken yet
		size_t pending_off = 0;
		bool guest_shut_send = false, closing = false, host_eof = false, shut_wr = false;
		bool readable = false;
		bool credit_requested = false;  // since the guest last told of its window
		uint32_t interest = 0;  // the epoll events registered
		bool registered = false;
		// Owe bits. Each packet is made when an RX buffer takes it, so it
		// carries the counters of that moment, and a credit update that
		// falls due again before then is the same one.
		uint8_t owed = 0;
		uint32_t credit() const { return peer_buf_alloc - (rx_cnt - peer_fwd_cnt); }
	};

	void process_tx();
	void process_rx();
	void handle(const TxPacket& p);
	void owe(Conn& c, uint8_t what);
	void reply_rst(Key k);  // for a packet of no connection
	bool has_ctrl() const { return !stray_rst_.empty() || !owing_.empty(); }
	bool next_ctrl(VsockHdr& h);
	VsockHdr host_hdr(Key k, uint16_t op, uint32_t flags = 0) const;  // from the host, no fwd_cnt
	VsockHdr conn_hdr(Conn& c, uint16_t op, uint32_t flags = 0);
	void remove(Key k);  // by value: callers pass a key that lives in the connection
	// Closes the connection and owes the guest its RST (or, with no
	// connection, answers with a stray RST). The Conn stays until the RST
	// is delivered, so a caller's reference to it stays valid.
	void reset_conn(Key k);
	void try_finish(Conn& c);
	void flush(Conn& c);
	void update_interest(Conn& c);
	void unwatch(Conn& c);  // its socket leaves the event loop
	void credit_check(Conn& c);
	void on_host_event(const Key& k, uint32_t events);
	void on_control();
	void send_control(uint16_t type, const Conn& c, int fd = -1);
	Conn* pick_readable();

	EventLoop& loop_;
	UniqueFd control_;
	uint64_t guest_cid_;
	Transport* t_ = nullptr;
	std::map<Key, std::unique_ptr<Conn>> conns_;
	std::set<Key> owing_;      // connections with owed bits
	std::set<Key> stray_rst_;  // RSTs for packets of no connection
	Key rr_{0, 0};  // round robin over connections with data for the guest
	uint64_t next_id_ = 1;
};

}  // namespace bencher::vmm::virtio
