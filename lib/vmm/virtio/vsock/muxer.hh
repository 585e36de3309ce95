// muxer.hh: the vsock muxer, Firecracker's unix/muxer in small. It maps
// (host port, guest port) to connections (connection.hh), speaks the control
// protocol of lib/vsock/control.hh with the host, answers packets of no
// connection with a bounded queue of resets, and keeps each connection's
// host stream watched on the event loop for what it wants. The device
// (device.hh) pumps the virtqueues through send_pkt and recv_pkt.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "common/fd.hh"
#include "vmm/event_loop.hh"
#include "vmm/virtio/vsock/connection.hh"
#include "vmm/virtio/vsock/packet.hh"
#include "vsock/control.hh"

namespace bencher::vmm::virtio {

// Resets answering packets of no connection that wait for RX buffers. Past
// kMax (a guest that sends and posts no RX buffers) more are dropped; what
// a connection owes never waits here, so nothing it owes is dropped.
class StrayResets {
public:
	static constexpr size_t kMax = 1024;
	void add(VsockKey k);
	// The guest has let go of a socket on these ports: a reset delivered
	// after its new REQUEST would reset the new connection.
	void forget(VsockKey k) { keys_.erase(k); }
	bool empty() const { return keys_.empty(); }
	size_t size() const { return keys_.size(); }
	VsockKey take();

private:
	std::set<VsockKey> keys_;
};

class VsockMuxer {
public:
	// Connections, counting those closed whose RST the guest has not been
	// given yet: what the device owes the guest is bounded by this.
	static constexpr size_t kMaxConns = 256;
	struct Hooks {
		// Runs event-loop work: the device holds its transport's lock
		// around it and afterwards delivers what it left for the guest.
		std::function<void(const std::function<void()>&)> serve;
		// Whether the guest's driver is up, so a host connection can reach it.
		std::function<bool()> guest_ready;
	};

	// control: the SOCK_SEQPACKET control socket, or invalid for none (every
	// guest connection is then refused).
	VsockMuxer(EventLoop& loop, UniqueFd control, uint64_t guest_cid, Hooks hooks);
	~VsockMuxer();

	// A TX packet from the guest.
	void send_pkt(const TxPacket& p);
	// Closes the connection on k and owes the guest its RST (or, with no
	// connection, answers with a stray RST). The entry stays until the RST
	// is delivered, so a caller's reference to it stays valid.
	void reset(VsockKey k);
	// Whether there is anything for the guest.
	bool has_rx();
	// Fills h for the next packet to the guest, its payload (h.len bytes)
	// into buf. False: nothing now; the buffer goes back unused.
	bool recv_pkt(const RxBuffer& buf, VsockHdr& h);
	// The driver reset the device: every connection goes.
	void clear();
	// Connections, with the closed ones whose RST the guest has not taken.
	size_t connections() const { return conns_.size(); }

private:
	struct Entry {
		std::unique_ptr<VsockConnection> conn;
		uint32_t interest = 0;  // the epoll events registered
		bool watched = false;
	};

	VsockConnection* find(VsockKey k);
	void guest_request(VsockKey k, const VsockHdr& h);
	void guest_rst(VsockConnection& c);
	void guest_packet(VsockConnection& c, const TxPacket& p);
	void sync(VsockConnection& c);
	void watch(Entry& e);
	void unwatch(Entry& e);
	void remove(VsockKey k);  // by value: callers pass a key that lives in the connection
	bool next_ctrl(VsockHdr& h);
	VsockConnection* pick_readable(bool advance);
	void on_host_event(VsockKey k, uint32_t events);
	void on_control();
	void host_answer(uint16_t type, uint64_t conn_id);
	void host_connect(const bencher::vsock::ControlMsg& m, UniqueFd fd);
	void send_control(uint16_t type, uint64_t conn_id, VsockKey k, int fd = -1);
	void tell_host(bencher::vsock::MsgType type, uint64_t conn_id, VsockKey k);
	void stop_control();

	EventLoop& loop_;
	UniqueFd control_;
	uint64_t guest_cid_;
	Hooks hooks_;
	std::map<VsockKey, Entry> conns_;
	std::set<VsockKey> owing_;  // connections with owed bits
	StrayResets stray_;
	VsockKey rr_{0, 0};  // round robin over connections with data for the guest
	uint64_t next_id_ = 1;
	std::vector<iovec> iov_;  // reused for each RX buffer
};

}  // namespace bencher::vmm::virtio
