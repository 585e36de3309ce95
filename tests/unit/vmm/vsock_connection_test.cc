// Unit tests for lib/vmm/virtio/vsock/connection and the muxer's stray
// resets: the state machine driven directly over a fake host stream
// (Firecracker's TestStream), so credit, shutdown and the control packets a
// connection owes are checked where they live, without sockets or queues.
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vmm/virtio/vsock/connection.hh"
#include "vmm/virtio/vsock/muxer.hh"

using namespace bencher::vmm::virtio;
using State = VsockConnection::State;

namespace {
// Takes up to `room` bytes, then says EAGAIN; reads what the test put in
// `to_read`, then EAGAIN or, once `eof`, end of file.
struct TestStream : HostStream {
	std::string written;
	size_t room = std::numeric_limits<size_t>::max();
	std::string to_read;
	bool eof = false, shut = false;
	int fail_errno = 0;  // every call fails with it
	ssize_t write(const iovec* iov, size_t n) override {
		if (fail_errno) return errno = fail_errno, -1;
		if (room == 0) return errno = EAGAIN, -1;
		size_t done = 0;
		for (size_t i = 0; i < n && room > 0; i++) {
			size_t k = std::min(room, iov[i].iov_len);
			written.append(static_cast<const char*>(iov[i].iov_base), k);
			room -= k;
			done += k;
		}
		return static_cast<ssize_t>(done);
	}
	ssize_t read(const iovec* iov, size_t n) override {
		if (fail_errno) return errno = fail_errno, -1;
		if (to_read.empty()) return eof ? 0 : (errno = EAGAIN, -1);
		size_t done = 0;
		for (size_t i = 0; i < n && !to_read.empty(); i++) {
			size_t k = std::min(to_read.size(), iov[i].iov_len);
			std::memcpy(iov[i].iov_base, to_read.data(), k);
			to_read.erase(0, k);
			done += k;
		}
		return static_cast<ssize_t>(done);
	}
	void shutdown_write() override { shut = true; }
	int fd() const override { return -1; }
};

struct Conn {
	TestStream* s;
	std::unique_ptr<VsockConnection> c;
	explicit Conn(State st = State::established, uint32_t buf_alloc = 1 << 20) {
		auto stream = std::make_unique<TestStream>();
		s = stream.get();
		VsockHdr window;
		window.buf_alloc = buf_alloc;
		c = std::make_unique<VsockConnection>(VsockKey{5000, 1234}, 1, 3, st, std::move(stream), window);
	}
	void rw(const std::string& data) {
		std::vector<iovec> iov{{const_cast<char*>(data.data()), data.size()}};
		c->guest_rw(iov, static_cast<uint32_t>(data.size()));
	}
	std::vector<VsockHdr> owed() {
		std::vector<VsockHdr> out;
		for (VsockHdr h; c->next_owed(h);) out.push_back(h);
		return out;
	}
	// Reads host data for the guest into a buffer of `cap` bytes.
	bool rx(VsockHdr& h, std::string& got, size_t cap = 4096) {
		got.assign(cap, '\0');
		std::vector<iovec> iov{{got.data(), cap}};
		bool r = c->recv_data(iov, h);
		got.resize(r && h.op == kOpRw ? h.len : 0);
		return r;
	}
};
}  // namespace

TEST(VsockConnection, ForwardsGuestDataAndOwesOneCreditUpdatePerQuarterWindow) {
	Conn t;
	std::string chunk(kBufAlloc / 8, 'a');
	t.rw(chunk);
	EXPECT_EQ(t.s->written.size(), chunk.size());
	EXPECT_EQ(t.c->owed(), 0) << "an eighth of the window is not news yet";
	for (int i = 0; i < 3; i++) t.rw(chunk);  // half the window in all
	auto owed = t.owed();
	ASSERT_EQ(owed.size(), 1u) << "one update, however often it fell due";
	EXPECT_EQ(owed[0].op, kOpCreditUpdate);
	EXPECT_EQ(owed[0].fwd_cnt, 4 * chunk.size()) << "the counters of its delivery";
	EXPECT_EQ(owed[0].buf_alloc, kBufAlloc);
	EXPECT_EQ(owed[0].src_port, 5000u);
	EXPECT_EQ(owed[0].dst_port, 1234u);
	t.rw(chunk);
	EXPECT_EQ(t.c->owed(), 0) << "the guest heard of the rest already";
	t.c->guest_credit_request();
	owed = t.owed();
	ASSERT_EQ(owed.size(), 1u);
	EXPECT_EQ(owed[0].fwd_cnt, 5 * chunk.size());
}

TEST(VsockConnection, QueuesWhatTheHostCannotTakeAndResetsPastTheCredit) {
	Conn t;
	t.s->room = 100;
	std::string chunk(60000, 'b');
	t.rw(chunk);
	EXPECT_EQ(t.s->written.size(), 100u);
	EXPECT_EQ(t.c->interest(), uint32_t(EPOLLIN | EPOLLOUT)) << "watched for room";
	// The window counts what waits: the guest may fill it, not more.
	size_t queued = chunk.size() - 100;
	std::string rest(kBufAlloc - queued, 'c');
	t.rw(rest);
	EXPECT_FALSE(t.c->must_reset());
	t.s->room = std::numeric_limits<size_t>::max();
	t.c->host_ready(true, false);
	EXPECT_EQ(t.s->written.size(), chunk.size() + rest.size());
	EXPECT_EQ(t.c->interest(), uint32_t(EPOLLIN));
	t.s->room = 0;
	t.rw(std::string(kBufAlloc, 'd'));
	EXPECT_FALSE(t.c->must_reset()) << "the whole window, queued";
	t.rw("e");
	EXPECT_TRUE(t.c->must_reset()) << "one byte beyond the credit we gave";
}

TEST(VsockConnection, AHostStreamErrorCallsForAReset) {
	Conn t;
	t.s->fail_errno = EPIPE;
	t.rw("x");
	EXPECT_TRUE(t.c->must_reset());
	Conn r;
	r.c->host_ready(false, true);
	r.s->fail_errno = ECONNRESET;
	VsockHdr h;
	std::string got;
	EXPECT_FALSE(r.rx(h, got));
	EXPECT_TRUE(r.c->must_reset());
}

TEST(VsockConnection, ShutdownEachWayThenReset) {
	Conn t;
	t.s->room = 3;
	t.rw("hello");
	t.c->guest_shutdown(kShutdownSend);
	EXPECT_FALSE(t.s->shut) << "not before the queued bytes are through";
	t.s->room = 100;
	t.c->host_ready(true, false);
	EXPECT_EQ(t.s->written, "hello");
	EXPECT_TRUE(t.s->shut);
	EXPECT_FALSE(t.c->must_reset());
	t.rw("more");
	EXPECT_TRUE(t.c->must_reset()) << "data after the guest's send shutdown";
	// The host's end of file becomes a SHUTDOWN; with the guest done
	// sending too, the connection is over.
	Conn u;
	u.c->guest_shutdown(kShutdownSend);
	u.c->host_ready(false, true);
	u.s->eof = true;
	VsockHdr h;
	std::string got;
	ASSERT_TRUE(u.rx(h, got));
	EXPECT_EQ(h.op, kOpShutdown);
	EXPECT_EQ(h.flags, kShutdownSend);
	EXPECT_TRUE(u.c->must_reset());
	EXPECT_EQ(u.c->interest(), 0u);
	// Both directions at once: a reset as soon as nothing is queued.
	Conn v;
	v.c->guest_shutdown(kShutdownSend | kShutdownRcv);
	EXPECT_TRUE(v.c->must_reset());
}

TEST(VsockConnection, OwedRepliesGoInOrderAndCloseLeavesOnlyTheReset) {
	Conn t(State::awaiting_host);
	t.c->owe(VsockConnection::kOweCreditRequest | VsockConnection::kOweCreditUpdate);
	t.c->host_accepted();
	EXPECT_EQ(t.c->state(), State::established);
	std::vector<uint16_t> ops;
	for (auto& h : t.owed()) ops.push_back(h.op);
	EXPECT_EQ(ops, (std::vector<uint16_t>{kOpResponse, kOpCreditUpdate, kOpCreditRequest}));
	t.c->owe(VsockConnection::kOweCreditUpdate | VsockConnection::kOweRequest);
	t.c->close();
	EXPECT_EQ(t.c->state(), State::closed);
	EXPECT_EQ(t.c->stream(), nullptr);
	auto owed = t.owed();
	ASSERT_EQ(owed.size(), 1u);
	EXPECT_EQ(owed[0].op, kOpRst);
}

TEST(VsockConnection, ProtocolViolationsCallForAReset) {
	Conn early(State::awaiting_host);
	early.rw("too soon");
	EXPECT_TRUE(early.c->must_reset());
	Conn twice;
	twice.c->guest_response();
	EXPECT_TRUE(twice.c->must_reset()) << "a RESPONSE to nothing asked";
	Conn answer(State::awaiting_guest);
	answer.c->guest_response();
	EXPECT_FALSE(answer.c->must_reset());
	EXPECT_EQ(answer.c->state(), State::established);
	Conn shut(State::awaiting_guest);
	shut.c->guest_shutdown(kShutdownSend);
	EXPECT_TRUE(shut.c->must_reset());
}

// Host data goes to the guest only within its window; with none left the
// connection asks for credit once, and again only after news of the window.
TEST(VsockConnection, SendsWithinTheGuestsWindowAndAsksForCreditOnce) {
	Conn t(State::established, 4096);
	t.s->to_read = std::string(10000, 'h');
	EXPECT_FALSE(t.c->wants_rx()) << "nothing readable yet";
	t.c->host_ready(false, true);
	ASSERT_TRUE(t.c->wants_rx());
	VsockHdr h;
	std::string got;
	ASSERT_TRUE(t.rx(h, got, t.c->credit()));
	EXPECT_EQ(h.op, kOpRw);
	EXPECT_EQ(got.size(), 4096u);
	EXPECT_EQ(t.c->credit(), 0u);
	EXPECT_FALSE(t.c->wants_rx());
	EXPECT_FALSE(t.c->wants_rx());
	auto owed = t.owed();
	ASSERT_EQ(owed.size(), 1u);
	EXPECT_EQ(owed[0].op, kOpCreditRequest);
	VsockHdr same;
	same.buf_alloc = 4096;
	t.c->learn_window(same);
	EXPECT_FALSE(t.c->wants_rx());
	EXPECT_EQ(t.c->owed(), 0) << "an answer with nothing new";
	VsockHdr read_all = same;
	read_all.fwd_cnt = 4096;
	t.c->learn_window(read_all);
	ASSERT_TRUE(t.c->wants_rx());
	ASSERT_TRUE(t.rx(h, got, t.c->credit()));
	EXPECT_EQ(got.size(), 4096u);
	EXPECT_FALSE(t.c->wants_rx());
	EXPECT_EQ(t.c->owed(), VsockConnection::kOweCreditRequest) << "asked again for the new window";
	// The host has nothing more for now: the stream is watched again.
	t.s->to_read.clear();
	t.c->learn_window(VsockHdr{.buf_alloc = 4096, .fwd_cnt = 8192});
	EXPECT_FALSE(t.rx(h, got));
	EXPECT_EQ(t.c->interest(), uint32_t(EPOLLIN));
}

TEST(StrayResets, BoundedAndDeduplicated) {
	StrayResets s;
	for (uint32_t i = 0; i < StrayResets::kMax + 100; i++) s.add({5000, i});
	EXPECT_EQ(s.size(), StrayResets::kMax);
	s.add({5000, 0});
	EXPECT_EQ(s.size(), StrayResets::kMax) << "one reset per ports";
	s.forget({5000, 0});
	EXPECT_EQ(s.size(), StrayResets::kMax - 1);
	EXPECT_EQ(s.take(), (VsockKey{5000, 1}));
	EXPECT_EQ(s.size(), StrayResets::kMax - 2);
}
