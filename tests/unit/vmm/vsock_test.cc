// Unit tests for lib/vmm/virtio/vsock: the device driven through its
// virtio-mmio registers over fake guest memory, with the host end of a real
// control socketpair: connect/accept, data both ways, credit, shutdown and
// reset, refusal, and a guest that oversteps its credit.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "common/fd.hh"
#include "fake_memory.hh"
#include "vmm/event_loop.hh"
#include "vmm/virtio/mmio.hh"
#include "vmm/virtio/vsock/device.hh"
#include "vsock/control.hh"

using namespace bencher;
using namespace bencher::vmm;
using namespace bencher::vmm::virtio;
using bencher::vmm::test::FakeMemory;
namespace ctl = bencher::vsock;

namespace {
constexpr uint16_t kQ = 16;
uint64_t ring(int q) { return 0x1000 + q * 0x3000; }

struct Guest {
	FakeMemory mem{1 << 20};
	EventLoop loop;
	UniqueFd host;
	std::unique_ptr<Vsock> dev;
	std::unique_ptr<Transport> t;
	int irqs = 0;
	uint16_t avail[2] = {0, 0};
	uint16_t seen_rx = 0;

	explicit Guest(bool with_control = true) {
		UniqueFd vmm_end;
		if (with_control) ctl::control_pair(vmm_end, host);
		dev = std::make_unique<Vsock>(loop, std::move(vmm_end), 3);
		t = std::make_unique<Transport>(*dev, mem, [this] { irqs++; });
		dev->attach(t.get());
		reg(0x24, 1);
		reg(0x20, 1);  // VERSION_1
		for (int q = 0; q < 3; q++) {
			reg(0x30, q);
			reg(0x38, kQ);
			reg(0x80, static_cast<uint32_t>(ring(q)));
			reg(0x90, static_cast<uint32_t>(ring(q) + 0x1000));
			reg(0xa0, static_cast<uint32_t>(ring(q) + 0x2000));
			reg(0x44, 1);
		}
		reg(0x70, 0xf);
		for (int i = 0; i < kQ; i++) post(0, 0x80000 + i * 0x1000, 0x1000, true);
	}
	void reg(uint64_t off, uint32_t v) { t->write(off, reinterpret_cast<uint8_t*>(&v), 4); }
	void post(int q, uint64_t addr, uint32_t len, bool write) {
		uint16_t i = avail[q] % kQ;
		uint64_t d = ring(q) + 16 * i;
		mem.store<uint64_t>(d, addr);
		mem.store<uint32_t>(d + 8, len);
		mem.store<uint16_t>(d + 12, write ? 2 : 0);
		mem.store<uint16_t>(ring(q) + 0x1000 + 4 + 2 * i, i);
		avail[q]++;
		mem.store<uint16_t>(ring(q) + 0x1000 + 2, avail[q]);
	}
	static VsockHdr guest_hdr(uint16_t op, uint32_t src_port, uint32_t dst_port) {
		VsockHdr h;
		h.src_cid = 3;
		h.dst_cid = 2;
		h.src_port = src_port;
		h.dst_port = dst_port;
		h.type = 1;
		h.op = op;
		return h;
	}
	void send(uint16_t op, uint32_t src_port, uint32_t dst_port, const std::string& payload = "",
	          uint32_t buf_alloc = 1 << 20, uint32_t flags = 0, uint32_t fwd_cnt = 0) {
		queue_tx(op, src_port, dst_port, payload, buf_alloc, flags, fwd_cnt);
		t->notify(1);
	}
	// A TX packet made available without a notification: the next one
	// handles both in one batch.
	void queue_tx(uint16_t op, uint32_t src_port, uint32_t dst_port, const std::string& payload = "",
	              uint32_t buf_alloc = 1 << 20, uint32_t flags = 0, uint32_t fwd_cnt = 0) {
		VsockHdr h = guest_hdr(op, src_port, dst_port);
		h.len = static_cast<uint32_t>(payload.size());
		h.flags = flags;
		h.buf_alloc = buf_alloc;
		h.fwd_cnt = fwd_cnt;
		uint64_t a = 0x40000 + (avail[1] % kQ) * 0x2000;
		mem.write(a, &h, sizeof h);
		mem.write(a + sizeof h, payload.data(), payload.size());
		post(1, a, static_cast<uint32_t>(sizeof h + payload.size()), false);
	}
	// The packets the device put in the RX queue since the last call; each
	// RX buffer is given back, or with repost false kept aside until
	// post_spare_rx() (so the device runs out of RX buffers).
	std::vector<std::pair<VsockHdr, std::string>> received(bool repost = true) {
		loop.run_once(0);
		t->notify(0);
		std::vector<std::pair<VsockHdr, std::string>> out;
		uint16_t used = mem.load<uint16_t>(ring(0) + 0x2000 + 2);
		for (; seen_rx != used; seen_rx++) {
			uint32_t id = mem.load<uint32_t>(ring(0) + 0x2000 + 4 + 8 * (seen_rx % kQ));
			uint64_t a = 0x80000 + id * 0x1000;
			VsockHdr h = mem.load<VsockHdr>(a);
			out.push_back({h, std::string(reinterpret_cast<char*>(mem.ptr(a + sizeof h, h.len)), h.len)});
			if (repost)
				post(0, a, 0x1000, true);
			else
				spare_rx.push_back(a);
		}
		return out;
	}
	// In the order they were used, so each descriptor keeps its buffer.
	void post_spare_rx() {
		for (uint64_t a : spare_rx) post(0, a, 0x1000, true);
		spare_rx.clear();
	}
	// Everything the device has for the guest, taking as many rounds of
	// RX buffers as that needs.
	std::vector<std::pair<VsockHdr, std::string>> drain() {
		std::vector<std::pair<VsockHdr, std::string>> all;
		for (int i = 0; i < 10000; i++) {
			auto rx = received();
			if (rx.empty()) break;
			all.insert(all.end(), rx.begin(), rx.end());
		}
		return all;
	}
	// A guest-initiated connection the host accepts; returns the host's end.
	UniqueFd connect(uint32_t guest_port, uint32_t host_port = 5000, uint32_t buf_alloc = 1 << 20) {
		send(kOpRequest, guest_port, host_port, "", buf_alloc);
		UniqueFd stream;
		auto m = control(stream);
		EXPECT_EQ(m.type, uint16_t(ctl::MsgType::guest_connect));
		m.type = uint16_t(ctl::MsgType::accept);
		ctl::send_msg(host.get(), m);
		auto rx = received();
		EXPECT_EQ(rx.size(), 1u);
		if (!rx.empty()) {
			EXPECT_EQ(rx[0].first.op, kOpResponse);
		}
		return stream;
	}
	// Uses up the device's RX buffers (each on a reset for a packet of no
	// connection) and keeps them aside.
	void starve_rx() {
		for (int i = 0; i < kQ; i++) send(kOpRw, 60000 + i, 5000, "?");
		auto rx = received(false);
		EXPECT_EQ(rx.size(), static_cast<size_t>(kQ));
	}
	// A TX chain the device cannot parse: a whole header naming
	// (src_port -> dst_port), then a device-writable buffer no TX chain may have.
	void send_with_writable_tail(uint32_t src_port, uint32_t dst_port) {
		VsockHdr h = guest_hdr(kOpRw, src_port, dst_port);
		uint16_t i = avail[1] % kQ, tail = (i + kQ / 2) % kQ;
		uint64_t a = 0x40000 + i * 0x2000;
		mem.write(a, &h, sizeof h);
		uint64_t d = ring(1) + 16 * i;
		mem.store<uint64_t>(d, a);
		mem.store<uint32_t>(d + 8, sizeof h);
		mem.store<uint16_t>(d + 12, 1);  // NEXT
		mem.store<uint16_t>(d + 14, tail);
		uint64_t dt = ring(1) + 16 * tail;
		mem.store<uint64_t>(dt, a + 0x1000);
		mem.store<uint32_t>(dt + 8, 64);
		mem.store<uint16_t>(dt + 12, 2);  // WRITE
		mem.store<uint16_t>(ring(1) + 0x1000 + 4 + 2 * i, i);
		avail[1]++;
		mem.store<uint16_t>(ring(1) + 0x1000 + 2, avail[1]);
		t->notify(1);
	}
	std::vector<uint64_t> spare_rx;
	ctl::ControlMsg control(UniqueFd& fd) {
		ctl::ControlMsg m;
		EXPECT_TRUE(ctl::recv_msg(host.get(), m, fd));
		return m;
	}
};
}  // namespace

TEST(Vsock, ConnectAcceptAndDataBothWays) {
	Guest g;
	g.send(kOpRequest, 1234, 5000);
	UniqueFd stream;
	auto m = g.control(stream);
	EXPECT_EQ(m.type, uint16_t(ctl::MsgType::guest_connect));
	EXPECT_EQ(m.host_port, 5000u);
	EXPECT_EQ(m.guest_port, 1234u);
	ASSERT_TRUE(stream.valid());
	EXPECT_TRUE(g.received().empty()) << "no answer before the host accepts";
	m.type = uint16_t(ctl::MsgType::accept);
	ctl::send_msg(g.host.get(), m);
	auto rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpResponse);
	EXPECT_EQ(rx[0].first.src_port, 5000u);
	EXPECT_EQ(rx[0].first.dst_port, 1234u);
	// Guest -> host.
	g.send(kOpRw, 1234, 5000, "hello host");
	char buf[64] = {};
	EXPECT_EQ(read(stream.get(), buf, sizeof buf), 10);
	EXPECT_STREQ(buf, "hello host");
	// Host -> guest.
	ASSERT_EQ(write(stream.get(), "hi guest", 8), 8);
	rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpRw);
	EXPECT_EQ(rx[0].second, "hi guest");
	EXPECT_GT(g.irqs, 0);
	// The guest closes: the host reads EOF, the guest gets its reset.
	g.send(kOpShutdown, 1234, 5000, "", 1 << 20, kShutdownRcv | kShutdownSend);
	EXPECT_EQ(read(stream.get(), buf, sizeof buf), 0);
	rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpRst);
	EXPECT_EQ(g.dev->connections(), 0u);
}

TEST(Vsock, HostEofBecomesAShutdown) {
	Guest g;
	g.send(kOpRequest, 1, 5001);
	UniqueFd stream;
	auto m = g.control(stream);
	m.type = uint16_t(ctl::MsgType::accept);
	ctl::send_msg(g.host.get(), m);
	g.received();
	shutdown(stream.get(), SHUT_WR);
	auto rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpShutdown);
	EXPECT_EQ(rx[0].first.flags, kShutdownSend);
}

TEST(Vsock, RefusedOrUncontrolledConnectionsAreReset) {
	Guest g;
	g.send(kOpRequest, 7, 5002);
	UniqueFd stream;
	auto m = g.control(stream);
	m.type = uint16_t(ctl::MsgType::refuse);
	ctl::send_msg(g.host.get(), m);
	auto rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpRst);
	Guest lonely(false);
	lonely.send(kOpRequest, 7, 5002);
	rx = lonely.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpRst);
}

TEST(Vsock, PacketsForUnknownConnectionsAndCreditViolationsAreReset) {
	Guest g;
	g.send(kOpRw, 9, 5000, "nobody");
	auto rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpRst);
	// A connection, then more data than the window we offered... cannot be
	// sent in one packet (64 KiB max), so fill the window with the host not
	// reading, then overstep it.
	g.send(kOpRequest, 10, 5000);
	UniqueFd stream;
	auto m = g.control(stream);
	m.type = uint16_t(ctl::MsgType::accept);
	ctl::send_msg(g.host.get(), m);
	g.received();
	std::string chunk(4000, 'x');
	int sent = 0;
	for (; sent < 2000 && g.dev->connections() == 1; sent++) {
		g.send(kOpRw, 10, 5000, chunk);
		g.received();
	}
	EXPECT_EQ(g.dev->connections(), 0u) << "reset after overstepping the credit";
	EXPECT_GE(static_cast<uint64_t>(sent) * chunk.size(), Vsock::kBufAlloc);
}

TEST(Vsock, HostInitiatedConnection) {
	Guest g;
	UniqueFd mine, theirs;
	ctl::stream_pair(mine, theirs);
	ctl::ControlMsg m;
	m.type = uint16_t(ctl::MsgType::host_connect);
	m.conn_id = 77;
	m.host_port = 9000;
	m.guest_port = 6000;
	ctl::send_msg(g.host.get(), m, theirs.get());
	auto rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpRequest);
	EXPECT_EQ(rx[0].first.dst_port, 6000u);
	g.send(kOpResponse, 6000, 9000);
	UniqueFd none;
	auto reply = g.control(none);
	EXPECT_EQ(reply.type, uint16_t(ctl::MsgType::connected));
	EXPECT_EQ(reply.conn_id, 77u);
	ASSERT_EQ(write(mine.get(), "to guest", 8), 8);
	rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].second, "to guest");
}

// A one-way guest -> host stream several times our window: the guest sends
// only within the credit it last heard of (virtio 1.2, 5.10.6.3), so it gets
// past the first window only if the device sends CREDIT_UPDATE as the host
// consumes, including after the host socket was full and drained (EPOLLOUT).
TEST(Vsock, GuestToHostStreamBeyondTheWindowGetsCreditUpdates) {
	Guest g;
	g.send(kOpRequest, 20, 5000);
	UniqueFd stream;
	auto m = g.control(stream);
	m.type = uint16_t(ctl::MsgType::accept);
	ctl::send_msg(g.host.get(), m);
	auto rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	ASSERT_EQ(rx[0].first.op, kOpResponse);
	uint32_t peer_buf_alloc = rx[0].first.buf_alloc, peer_fwd_cnt = rx[0].first.fwd_cnt;
	EXPECT_EQ(peer_buf_alloc, Vsock::kBufAlloc);
	const uint64_t total = 4ull * Vsock::kBufAlloc + 12345;
	uint64_t tx_cnt = 0, got = 0;
	int updates = 0, idle = 0;
	std::string chunk(4096, 'y');
	std::vector<char> buf(1 << 16);
	while (got < total && idle < 100) {
		bool progress = false;
		// The guest sends what its credit allows.
		for (int i = 0; i < 8 && tx_cnt < total; i++) {
			uint64_t credit = peer_buf_alloc - static_cast<uint32_t>(tx_cnt - peer_fwd_cnt);
			size_t n = static_cast<size_t>(std::min<uint64_t>({credit, chunk.size(), total - tx_cnt}));
			if (n == 0) break;
			g.send(kOpRw, 20, 5000, chunk.substr(0, n));
			tx_cnt += n;
			progress = true;
		}
		// The host reads slowly: one 64 KiB read a round, so the socket
		// fills and the device has to queue and flush on EPOLLOUT.
		ssize_t r = recv(stream.get(), buf.data(), buf.size(), MSG_DONTWAIT);
		if (r > 0) {
			ASSERT_TRUE(std::all_of(buf.begin(), buf.begin() + r, [](char c) { return c == 'y'; }));
			got += static_cast<uint64_t>(r);
			progress = true;
		}
		for (auto& [h, payload] : g.received()) {
			ASSERT_NE(h.op, kOpRst) << "reset after " << got << " bytes";
			if (h.op == kOpCreditUpdate) updates++;
			peer_buf_alloc = h.buf_alloc;
			peer_fwd_cnt = h.fwd_cnt;
		}
		idle = progress ? 0 : idle + 1;
	}
	EXPECT_EQ(got, total) << "stalled: guest sent " << tx_cnt << ", last fwd_cnt " << peer_fwd_cnt;
	EXPECT_GE(updates, 4) << "credit updates as the host consumed";
	EXPECT_EQ(g.dev->connections(), 1u);
	// Once the host has taken everything, the guest's fwd_cnt catches up if
	// it asks.
	g.send(kOpCreditRequest, 20, 5000);
	rx = g.received();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpCreditUpdate);
	EXPECT_EQ(rx[0].first.fwd_cnt, static_cast<uint32_t>(total));
}

// The driver resets the device (status 0) on a vCPU thread while the event
// loop's thread serves the connections' sockets; the reset lets go of their
// fds, so the two threads share the loop's handler table. Under
// ThreadSanitizer this reported a race before the loop had a lock.
TEST(Vsock, ResetFromAVcpuThreadWhileTheLoopServesSockets) {
	for (int round = 0; round < 10; round++) {
		Guest g;
		std::vector<UniqueFd> streams;
		for (uint32_t p = 0; p < 8; p++) {
			g.send(kOpRequest, 100 + p, 5000);
			UniqueFd s;
			auto m = g.control(s);
			m.type = uint16_t(ctl::MsgType::accept);
			ctl::send_msg(g.host.get(), m);
			streams.push_back(std::move(s));
		}
		g.received();
		std::atomic<bool> done{false};
		std::thread vcpu([&] {
			std::this_thread::sleep_for(std::chrono::milliseconds(round));
			g.reg(0x70, 0);
			done.store(true, std::memory_order_relaxed);
		});
		// The host keeps writing (the device may have closed its end already).
		auto host_writes = [&] {
			for (auto& s : streams) send(s.get(), "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		};
		for (int i = 0; i < 1000 && !done.load(std::memory_order_relaxed); i++) {
			host_writes();
			g.received();
		}
		host_writes();
		g.loop.run_once(0);  // nothing left to call for the sockets it let go of
		vcpu.join();
		EXPECT_EQ(g.dev->connections(), 0u);
	}
}

namespace {
// A guest that sends packets for connections that do not exist while it
// posts no RX buffers: every one is answered with a reset that waits for a
// buffer. More of them than the device ever held (4096 before it bounded
// what each connection owes) so that control packets were dropped.
void flood_stray_resets(Guest& g) {
	for (uint32_t i = 0; i < 4200; i++) g.send(kOpRw, 100000 + i, 5000, "x");
}
uint64_t drain_host(int fd) {
	char buf[65536];
	uint64_t got = 0;
	for (ssize_t n; (n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;) got += static_cast<uint64_t>(n);
	return got;
}
}  // namespace

// The guest sends within the window it last heard of and never asks: a
// credit update the device drops stalls it for good. A flood of resets for
// packets of no connection must not push out what a connection owes.
TEST(Vsock, CreditUpdatesSurviveAFloodOfStrayResets) {
	Guest g;
	UniqueFd stream = g.connect(30);
	g.starve_rx();
	flood_stray_resets(g);
	std::string chunk(60000, 'z');
	uint64_t sent = 0, got = 0;
	while (sent < Vsock::kBufAlloc / 2) {
		g.send(kOpRw, 30, 5000, chunk);
		sent += chunk.size();
		got += drain_host(stream.get());
	}
	g.loop.run_once(0);
	got += drain_host(stream.get());
	EXPECT_EQ(got, sent);
	g.post_spare_rx();
	uint32_t heard = 0;
	for (auto& [h, payload] : g.drain())
		if (h.dst_port == 30 && h.src_port == 5000) {
			EXPECT_NE(h.op, kOpRst);
			heard = h.fwd_cnt;
		}
	EXPECT_EQ(heard, sent) << "the guest never heard of the bytes the host took";
}

// Answers to a guest's REQUEST (accepted or refused) and the reset of a
// connection the device closes are owed by that connection, not dropped
// with the strays.
TEST(Vsock, AnswersToRequestsSurviveAFloodOfStrayResets) {
	Guest g;
	g.starve_rx();
	g.send(kOpRequest, 40, 5000);
	g.send(kOpRequest, 41, 5000);
	UniqueFd s40, s41;
	auto m40 = g.control(s40);
	auto m41 = g.control(s41);
	flood_stray_resets(g);
	m40.type = uint16_t(ctl::MsgType::accept);
	ctl::send_msg(g.host.get(), m40);
	m41.type = uint16_t(ctl::MsgType::refuse);
	ctl::send_msg(g.host.get(), m41);
	g.loop.run_once(0);
	g.post_spare_rx();
	int response = 0, rst = 0;
	for (auto& [h, payload] : g.drain()) {
		if (h.dst_port == 40 && h.op == kOpResponse) response++;
		if (h.dst_port == 41 && h.op == kOpRst) rst++;
		EXPECT_FALSE(h.dst_port == 40 && h.op == kOpRst);
	}
	EXPECT_EQ(response, 1) << "the accepted connection's RESPONSE";
	EXPECT_EQ(rst, 1) << "the refused connection's RST";
	EXPECT_EQ(g.dev->connections(), 1u);
}

// What a connection owes is made when an RX buffer takes it: one credit
// update however often it fell due while the guest posted no buffers, with
// the counters of the moment it is delivered.
TEST(Vsock, OneCreditUpdateOwedCarriesTheCountersOfItsDelivery) {
	Guest g;
	UniqueFd stream = g.connect(31);
	g.starve_rx();
	std::string chunk(60000, 'w');
	uint64_t sent = 0;
	for (int i = 0; i < 10; i++) {  // 600000 bytes: past kBufAlloc / 4 twice
		g.send(kOpRw, 31, 5000, chunk);
		sent += chunk.size();
		drain_host(stream.get());
	}
	// The guest asks too, several times.
	for (int i = 0; i < 5; i++) g.send(kOpCreditRequest, 31, 5000);
	g.post_spare_rx();
	auto rx = g.drain();
	int updates = 0;
	for (auto& [h, payload] : rx)
		if (h.dst_port == 31) {
			EXPECT_EQ(h.op, kOpCreditUpdate);
			EXPECT_EQ(h.fwd_cnt, sent);
			updates++;
		}
	EXPECT_EQ(updates, 1);
}

// A connection the device closed owes the guest its RST until an RX buffer
// takes it. A new REQUEST from the guest on the same ports says its socket
// is gone: that RST, delivered after it, would reset the new connection.
TEST(Vsock, AResetStillOwedGivesWayToTheGuestsNewConnection) {
	Guest g;
	UniqueFd old_stream = g.connect(50);
	g.starve_rx();
	g.send(kOpShutdown, 50, 5000, "", 1 << 20, kShutdownRcv | kShutdownSend);
	EXPECT_EQ(g.dev->connections(), 1u) << "closed, its RST owed";
	g.send(kOpRequest, 50, 5000);
	UniqueFd stream;
	auto m = g.control(stream);
	m.type = uint16_t(ctl::MsgType::accept);
	ctl::send_msg(g.host.get(), m);
	g.loop.run_once(0);
	g.post_spare_rx();
	auto rx = g.drain();
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0].first.op, kOpResponse);
	EXPECT_EQ(g.dev->connections(), 1u);
}

// A host connection to the same ports as one that still owes its RST: the
// guest gets that RST first, then the REQUEST.
TEST(Vsock, AHostConnectionOnPortsThatOweAResetSendsItFirst) {
	Guest g;
	UniqueFd old_stream = g.connect(51, 9001);
	g.starve_rx();
	g.send(kOpShutdown, 51, 9001, "", 1 << 20, kShutdownRcv | kShutdownSend);
	UniqueFd mine, theirs;
	ctl::stream_pair(mine, theirs);
	ctl::ControlMsg m;
	m.type = uint16_t(ctl::MsgType::host_connect);
	m.conn_id = 78;
	m.host_port = 9001;
	m.guest_port = 51;
	ctl::send_msg(g.host.get(), m, theirs.get());
	g.loop.run_once(0);
	g.post_spare_rx();
	auto rx = g.drain();
	ASSERT_EQ(rx.size(), 2u);
	EXPECT_EQ(rx[0].first.op, kOpRst);
	EXPECT_EQ(rx[1].first.op, kOpRequest);
	for (auto& [h, payload] : rx) {
		EXPECT_EQ(h.src_port, 9001u);
		EXPECT_EQ(h.dst_port, 51u);
	}
	EXPECT_EQ(g.dev->connections(), 1u);
	g.send(kOpResponse, 51, 9001);
	UniqueFd none;
	EXPECT_EQ(g.control(none).type, uint16_t(ctl::MsgType::connected));
}

namespace {
struct HostToGuest {
	uint64_t got = 0;
	int requests = 0;
	void take(const std::vector<std::pair<VsockHdr, std::string>>& rx) {
		for (auto& [h, payload] : rx) {
			EXPECT_NE(h.op, kOpRst);
			if (h.op == kOpRw) got += payload.size();
			if (h.op == kOpCreditRequest) requests++;
		}
	}
};
}  // namespace

// The host has more for the guest than its 4 KiB window and the guest's
// reader sleeps: the device asks for credit once. An answer that says
// nothing new (fwd_cnt unchanged) must not make it ask again, or the two
// sides trade CREDIT_REQUEST and CREDIT_UPDATE for as long as the reader
// sleeps. Once the guest reports progress, it asks again when that credit
// is used up.
TEST(Vsock, ACreditRequestAnsweredWithNothingNewIsNotRepeated) {
	Guest g;
	UniqueFd stream = g.connect(60, 5000, 4096);
	std::string data(10000, 'h');
	ASSERT_EQ(write(stream.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
	HostToGuest r;
	r.take(g.received());
	EXPECT_EQ(r.got, 4096u);
	EXPECT_EQ(r.requests, 1);
	for (int i = 0; i < 5; i++) {
		g.send(kOpCreditUpdate, 60, 5000, "", 4096, 0, 0);
		r.take(g.received());
	}
	EXPECT_EQ(r.got, 4096u);
	EXPECT_EQ(r.requests, 1) << "asked again though nothing changed";
	// The reader took everything.
	g.send(kOpCreditUpdate, 60, 5000, "", 4096, 0, 4096);
	r.take(g.received());
	EXPECT_EQ(r.got, 8192u);
	EXPECT_EQ(r.requests, 2);
	for (int i = 0; i < 5; i++) {
		g.send(kOpCreditUpdate, 60, 5000, "", 4096, 0, 4096);
		r.take(g.received());
	}
	EXPECT_EQ(r.requests, 2);
}

// Any packet from the guest carries its window. One that reports progress
// while the device's credit request is unanswered re-arms the request: the
// device must not wait for that answer before it asks about the new window
// it has used up.
TEST(Vsock, NewsOfTheWindowInAnyPacketReArmsTheCreditRequest) {
	Guest g;
	UniqueFd stream = g.connect(61, 5000, 4096);
	std::string data(20000, 'k');
	ASSERT_EQ(write(stream.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
	HostToGuest r;
	r.take(g.received());
	EXPECT_EQ(r.got, 4096u);
	EXPECT_EQ(r.requests, 1);
	// The guest read it all and says so with data of its own.
	g.send(kOpRw, 61, 5000, "ack", 4096, 0, 4096);
	r.take(g.received());
	EXPECT_EQ(r.got, 8192u);
	EXPECT_EQ(r.requests, 2) << "no request for the second window";
	char buf[8];
	EXPECT_EQ(read(stream.get(), buf, sizeof buf), 3);
}

// A TX chain that fails to parse is answered from its own header, never
// from the packet before it: the previous packet's connection lives on.
TEST(Vsock, ABadTxChainDoesNotResetThePreviousPacketsConnection) {
	Guest g;
	UniqueFd stream = g.connect(70);
	g.queue_tx(kOpRw, 70, 5000, "before");
	g.send_with_writable_tail(71, 5000);  // in the same TX batch
	for (auto& [h, payload] : g.received()) EXPECT_FALSE(h.dst_port == 70 && h.op == kOpRst);
	EXPECT_EQ(g.dev->connections(), 1u);
	g.send(kOpRw, 70, 5000, "after");
	char buf[32] = {};
	EXPECT_EQ(read(stream.get(), buf, sizeof buf), 11);
	EXPECT_STREQ(buf, "beforeafter");
}
