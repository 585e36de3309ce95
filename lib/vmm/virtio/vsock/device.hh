// device.hh: virtio-vsock (device 19) in userspace, Firecracker's split in
// three: packet.hh (bounds-checked views of guest chains), connection.hh
// (one connection's state machine over its host stream) and muxer.hh (ports,
// the control channel, stray resets). This is the device: it pumps the
// virtqueues, handing TX packets to the muxer and filling RX buffers from
// it. Runs on the event loop's thread; the guest's TX payload is written
// straight from guest memory, host data read straight into its RX buffers.
#pragma once

#include <cstdint>
#include <vector>

#include "common/fd.hh"
#include "vmm/event_loop.hh"
#include "vmm/virtio/mmio.hh"
#include "vmm/virtio/vsock/muxer.hh"
#include "vmm/virtio/vsock/packet.hh"

namespace bencher::vmm::virtio {

class Vsock : public Device {
public:
	static constexpr uint32_t kBufAlloc = virtio::kBufAlloc;
	static constexpr size_t kMaxConns = VsockMuxer::kMaxConns;
	static constexpr size_t kMaxStrayRst = StrayResets::kMax;
	enum Queues : uint16_t { kRxQ = 0, kTxQ = 1, kEvQ = 2 };

	// control: the SOCK_SEQPACKET control socket, or invalid for none (every
	// guest connection is then refused).
	Vsock(EventLoop& loop, UniqueFd control, uint64_t guest_cid);
	void attach(Transport* t) { t_ = t; }

	uint32_t device_id() const override { return 19; }
	uint64_t features() const override { return 0; }
	uint16_t num_queues() const override { return 3; }
	void read_config(uint64_t offset, uint8_t* data, size_t len) override;
	void activate(Transport& t) override { t_ = &t; }
	void notify(Transport& t, uint16_t queue) override;
	void reset() override { mux_.clear(); }

	// Connections, with the closed ones whose RST the guest has not taken.
	size_t connections() const { return mux_.connections(); }

private:
	void process_tx();
	void process_rx();
	// Event-loop work on the muxer: under the transport's lock, then
	// delivering what it left for the guest.
	void serve(const std::function<void()>& work);

	uint64_t guest_cid_;
	Transport* t_ = nullptr;
	VsockMuxer mux_;
};

}  // namespace bencher::vmm::virtio
