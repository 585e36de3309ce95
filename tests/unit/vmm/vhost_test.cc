// Unit tests for lib/vmm/vhost and lib/vmm/virtio/fs: the vhost-user codec
// byte for byte, and the frontend and the virtio-fs device against a small
// backend on a socketpair that records what arrives (messages and fds) and
// can misbehave: no reply, a short one, a reply to another request, an
// oversize payload, a refusal, a hang-up. Each must end in a bounded error.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"
#include "vmm/memory.hh"
#include "vmm/vhost/frontend.hh"
#include "vmm/vhost/protocol.hh"
#include "vmm/virtio/fs.hh"
#include "vmm/virtio/mmio.hh"

using namespace bencher;
using namespace bencher::vmm;
using namespace bencher::vmm::vhost;

namespace {

uint32_t get32(const uint8_t* p) {
	uint32_t v;
	std::memcpy(&v, p, 4);
	return v;
}
uint64_t get64(const uint8_t* p) {
	uint64_t v;
	std::memcpy(&v, p, 8);
	return v;
}

std::vector<uint8_t> reply(uint32_t request, const std::vector<uint8_t>& payload, uint32_t flags = kVersion | kFlagReply) {
	// Sized once: g++ 12 -O2 mistakes an insert after the header for an overflow.
	std::vector<uint8_t> b(kHeaderSize + payload.size());
	std::memcpy(b.data(), &request, 4);
	std::memcpy(b.data() + 4, &flags, 4);
	uint32_t size = static_cast<uint32_t>(payload.size());
	std::memcpy(b.data() + 8, &size, 4);
	if (!payload.empty()) std::memcpy(b.data() + kHeaderSize, payload.data(), payload.size());
	return b;
}
std::vector<uint8_t> u64(uint64_t v) {
	std::vector<uint8_t> p(8);
	std::memcpy(p.data(), &v, 8);
	return p;
}

constexpr uint64_t kVersion1 = 1ull << 32;

// One message as the backend received it.
struct Received {
	uint32_t request = 0, flags = 0;
	std::vector<uint8_t> payload;
	std::vector<UniqueFd> fds;
};

// The backend's end: a thread that reads messages and answers each with
// what `respond` returns (nothing: no answer). Well-behaved by default, as
// libvhost-user answers: features with VERSION_1 and protocol features,
// REPLY_ACK and MQ, two queues, status 0 for every NEED_REPLY.
class FakeBackend {
public:
	using Respond = std::function<std::vector<uint8_t>(const Received&)>;
	explicit FakeBackend(Respond r = nullptr) : respond_(r ? std::move(r) : well_behaved) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw std::runtime_error("socketpair");
		frontend_end_.reset(sv[0]);
		mine_.reset(sv[1]);
		thread_ = std::thread([this] { serve(); });
	}
	~FakeBackend() {
		shutdown(mine_.get(), SHUT_RDWR);
		thread_.join();
	}
	UniqueFd take_frontend_end() { return std::move(frontend_end_); }
	void hang_up() { shutdown(mine_.get(), SHUT_RDWR); }
	std::vector<uint32_t> requests() {
		std::lock_guard l(mu_);
		std::vector<uint32_t> r;
		for (const auto& m : got_) r.push_back(m.request);
		return r;
	}
	// Runs f over the recorded messages under the lock.
	void inspect(const std::function<void(std::vector<Received>&)>& f) {
		std::lock_guard l(mu_);
		f(got_);
	}

	static std::vector<uint8_t> well_behaved(const Received& m) {
		switch (m.request) {
		case kGetFeatures: return reply(m.request, u64(kVersion1 | kFeatureProtocolFeatures | (1ull << 28) | (1ull << 29)));
		case kGetProtocolFeatures: return reply(m.request, u64(kProtocolMq | kProtocolReplyAck | (1ull << 5)));
		case kGetQueueNum: return reply(m.request, u64(2));
		case kGetVringBase: {
			std::vector<uint8_t> p(8, 0);
			std::memcpy(p.data(), m.payload.data(), 4);
			p[4] = 7;
			return reply(m.request, p);
		}
		}
		if (m.flags & kFlagNeedReply) return reply(m.request, u64(0));
		return {};
	}

private:
	void serve() {
		for (;;) {
			Received m;
			uint8_t hdr[kHeaderSize];
			alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * 8)];
			iovec iov{hdr, sizeof hdr};
			msghdr msg{};
			msg.msg_iov = &iov;
			msg.msg_iovlen = 1;
			msg.msg_control = ctl;
			msg.msg_controllen = sizeof ctl;
			ssize_t n = recvmsg(mine_.get(), &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
			if (n != static_cast<ssize_t>(sizeof hdr)) return;
			for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
				size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < nfd; i++) {
					int fd;
					std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
					m.fds.emplace_back(fd);
				}
			}
			m.request = get32(hdr);
			m.flags = get32(hdr + 4);
			m.payload.resize(get32(hdr + 8));
			if (!m.payload.empty() &&
			    recv(mine_.get(), m.payload.data(), m.payload.size(), MSG_WAITALL) != static_cast<ssize_t>(m.payload.size()))
				return;
			std::vector<uint8_t> out = respond_(m);
			{
				std::lock_guard l(mu_);
				got_.push_back(std::move(m));
			}
			if (!out.empty() && send(mine_.get(), out.data(), out.size(), MSG_NOSIGNAL) < 0) return;
		}
	}

	Respond respond_;
	UniqueFd frontend_end_, mine_;
	std::mutex mu_;
	std::vector<Received> got_;
	std::thread thread_;
};

std::string error_of(const std::function<void()>& f) {
	try {
		f();
	} catch (const Error& e) {
		return e.what();
	}
	return "no error";
}

// --- the codec ---

TEST(VhostCodec, HeaderAndU64) {
	Message m = encode_u64(kSetFeatures, true, 0x1122334455667788ull);
	ASSERT_EQ(m.bytes.size(), 20u);
	EXPECT_EQ(get32(m.bytes.data()), 2u);
	EXPECT_EQ(get32(m.bytes.data() + 4), kVersion | kFlagNeedReply);
	EXPECT_EQ(get32(m.bytes.data() + 8), 8u);
	EXPECT_EQ(get64(m.bytes.data() + 12), 0x1122334455667788ull);
	EXPECT_EQ(encode_u64(kSetFeatures, false, 0).flags(), kVersion);
}

TEST(VhostCodec, MemTableSendsOnlyItsRegions) {
	Message m = encode_mem_table(false, {{0, 0x1000, 0x7f0000000000, 0}, {0x100000000, 0x2000, 0x7f1000000000, 0x1000}});
	ASSERT_EQ(m.bytes.size(), kHeaderSize + 8 + 2 * 32);
	const uint8_t* p = m.bytes.data() + kHeaderSize;
	EXPECT_EQ(get32(p), 2u);
	EXPECT_EQ(get64(p + 8 + 32), 0x100000000ull);
	EXPECT_EQ(get64(p + 8 + 32 + 8), 0x2000ull);
	EXPECT_EQ(get64(p + 8 + 32 + 16), 0x7f1000000000ull);
	EXPECT_EQ(get64(p + 8 + 32 + 24), 0x1000ull);
	EXPECT_NE(error_of([] { encode_mem_table(false, {}); }), "no error");
	EXPECT_NE(error_of([] { encode_mem_table(false, std::vector<vhost::MemRegion>(9)); }), "no error");
}

TEST(VhostCodec, VringAddrLayout) {
	Message m = encode_vring_addr(false, {1, 0xa000, 0xb000, 0xc000});
	ASSERT_EQ(m.bytes.size(), kHeaderSize + 40);
	const uint8_t* p = m.bytes.data() + kHeaderSize;
	EXPECT_EQ(get32(p), 1u);
	EXPECT_EQ(get32(p + 4), 0u);  // no logging
	EXPECT_EQ(get64(p + 8), 0xa000u);
	EXPECT_EQ(get64(p + 16), 0xb000u);  // used before avail, as struct vhost_vring_addr
	EXPECT_EQ(get64(p + 24), 0xc000u);
	EXPECT_EQ(get64(p + 32), 0u);
}

TEST(VhostCodec, HostileReplyHeaders) {
	auto ok = reply(kGetFeatures, u64(1));
	EXPECT_EQ(decode_header(ok.data(), ok.size(), kGetFeatures, 8).size, 8u);
	EXPECT_NE(error_of([&] { decode_header(ok.data(), 11, kGetFeatures, 8); }).find("header of 11 bytes"), std::string::npos);
	auto v2 = reply(kGetFeatures, u64(1), 2 | kFlagReply);
	EXPECT_NE(error_of([&] { decode_header(v2.data(), v2.size(), kGetFeatures, 8); }).find("protocol version 2"), std::string::npos);
	auto noreply = reply(kGetFeatures, u64(1), kVersion);
	EXPECT_NE(error_of([&] { decode_header(noreply.data(), noreply.size(), kGetFeatures, 8); }).find("reply flag"), std::string::npos);
	auto other = reply(kGetQueueNum, u64(1));
	EXPECT_NE(error_of([&] { decode_header(other.data(), other.size(), kGetFeatures, 8); }).find("answers GET_QUEUE_NUM"), std::string::npos);
	auto big = reply(kGetFeatures, std::vector<uint8_t>(4096));
	EXPECT_NE(error_of([&] { decode_header(big.data(), big.size(), kGetFeatures, 8); }).find("payload of 4096 bytes"), std::string::npos);
	uint8_t st[8] = {1, 0, 0, 0, 5, 0, 0, 0};
	EXPECT_EQ(decode_state(st, 8, 1), 5u);
	EXPECT_NE(error_of([&] { decode_state(st, 8, 0); }), "no error");
	EXPECT_NE(error_of([&] { decode_u64(st, 4); }), "no error");
}

// --- the frontend against the fake backend ---

TEST(VhostFrontend, HandshakeNegotiatesOnlyWhatWeUse) {
	FakeBackend be;
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	fe.handshake(2);
	EXPECT_EQ(be.requests(), (std::vector<uint32_t>{kSetOwner, kGetFeatures, kGetProtocolFeatures, kSetProtocolFeatures,
	                                               kGetQueueNum}));
	be.inspect([](auto& got) { EXPECT_EQ(get64(got[3].payload.data()), kProtocolMq | kProtocolReplyAck); });
	EXPECT_EQ(fe.protocol_features(), kProtocolMq | kProtocolReplyAck);
}

TEST(VhostFrontend, NoReplyIsABoundedError) {
	FakeBackend be([](const Received&) { return std::vector<uint8_t>{}; });
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 200);
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(error_of([&] { fe.handshake(2); }), "virtio-fs t: vhost-user GET_FEATURES reply: no answer within 200 ms");
	EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(VhostFrontend, ShortReplyThenHangUp) {
	FakeBackend be([](const Received& m) {
		auto r = reply(m.request, u64(kVersion1));
		r.resize(kHeaderSize + 3);
		return m.request == kGetFeatures ? r : FakeBackend::well_behaved(m);
	});
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	std::thread t([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		be.hang_up();
	});
	EXPECT_EQ(error_of([&] { fe.handshake(2); }),
	          "virtio-fs t: vhost-user GET_FEATURES reply: the backend closed the connection");
	t.join();
}

TEST(VhostFrontend, ReplyToAnotherRequest) {
	FakeBackend be([](const Received& m) {
		return m.request == kGetFeatures ? reply(kGetQueueNum, u64(kVersion1)) : FakeBackend::well_behaved(m);
	});
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	EXPECT_EQ(error_of([&] { fe.handshake(2); }),
	          "virtio-fs t: vhost-user GET_FEATURES reply: answers GET_QUEUE_NUM");
}

TEST(VhostFrontend, OversizePayloadIsNotRead) {
	FakeBackend be([](const Received& m) {
		return m.request == kGetFeatures ? reply(m.request, std::vector<uint8_t>(1 << 16, 0xff))
		                                 : FakeBackend::well_behaved(m);
	});
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	EXPECT_EQ(error_of([&] { fe.handshake(2); }),
	          "virtio-fs t: vhost-user GET_FEATURES reply: payload of 65536 bytes, expected 8");
}

TEST(VhostFrontend, BackendWithoutVersion1) {
	FakeBackend be([](const Received& m) { return m.request == kGetFeatures ? reply(m.request, u64(0)) : FakeBackend::well_behaved(m); });
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	EXPECT_EQ(error_of([&] { fe.handshake(2); }), "virtio-fs t: the vhost-user backend does not offer VIRTIO_F_VERSION_1");
}

TEST(VhostFrontend, TooFewQueues) {
	FakeBackend be([](const Received& m) { return m.request == kGetQueueNum ? reply(m.request, u64(1)) : FakeBackend::well_behaved(m); });
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	EXPECT_EQ(error_of([&] { fe.handshake(2); }), "virtio-fs t: the vhost-user backend serves 1 queues, the device has 2");
}

TEST(VhostFrontend, RefusalWithReplyAck) {
	FakeBackend be([](const Received& m) {
		return m.request == kSetFeatures ? reply(m.request, u64(1)) : FakeBackend::well_behaved(m);
	});
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	fe.handshake(2);
	EXPECT_EQ(error_of([&] { fe.set_features(kVersion1); }),
	          "virtio-fs t: vhost-user SET_FEATURES: the backend refused it (status 1)");
}

// Without protocol features there is no REPLY_ACK: nothing is waited for,
// no NEED_REPLY is set (libvhost-user would answer it anyway and the reply
// would be read as the next one's), and rings need no SET_VRING_ENABLE.
TEST(VhostFrontend, PlainBackendGetsNoNeedReply) {
	FakeBackend be([](const Received& m) {
		return m.request == kGetFeatures ? reply(m.request, u64(kVersion1)) : std::vector<uint8_t>{};
	});
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	fe.handshake(2);
	fe.set_features(kVersion1);
	int efd = dup(0);
	Frontend::Ring r;
	r.index = 1;
	r.size = 8;
	r.kick_fd = r.call_fd = efd;
	fe.start_ring(r);
	close(efd);
	for (int i = 0; i < 200 && be.requests().size() < 8; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
	EXPECT_EQ(be.requests(), (std::vector<uint32_t>{kSetOwner, kGetFeatures, kSetFeatures, kSetVringNum, kSetVringBase,
	                                               kSetVringAddr, kSetVringKick, kSetVringCall}));
	be.inspect([](auto& got) {
		for (const auto& m : got) EXPECT_EQ(m.flags, kVersion) << request_name(m.request);
		EXPECT_EQ(got[6].fds.size(), 1u);
	});
}

// --- the virtio-fs device through its transport ---

void reg(virtio::Transport& t, uint64_t off, uint32_t v) { t.write(off, reinterpret_cast<const uint8_t*>(&v), 4); }
uint32_t reg(virtio::Transport& t, uint64_t off) {
	uint32_t v = 0;
	t.read(off, reinterpret_cast<uint8_t*>(&v), 4);
	return v;
}

// A driver's probe as Linux's virtio_mmio does it: features, then both
// queues at 0x10000 + q * 0x4000, then DRIVER_OK.
void probe(virtio::Transport& t) {
	reg(t, 0x70, 1 | 2);
	reg(t, 0x24, 1);
	reg(t, 0x20, 1);  // VERSION_1
	reg(t, 0x70, 1 | 2 | 8);
	for (uint32_t q = 0; q < 2; q++) {
		uint64_t base = 0x10000 + q * 0x4000;
		reg(t, 0x30, q);
		reg(t, 0x38, 8);
		reg(t, 0x80, static_cast<uint32_t>(base));
		reg(t, 0x90, static_cast<uint32_t>(base + 0x1000));
		reg(t, 0xa0, static_cast<uint32_t>(base + 0x2000));
		reg(t, 0x44, 1);
	}
	reg(t, 0x70, 1 | 2 | 8 | 4);
}

TEST(VirtioFs, RefusesPrivateMemory) {
	FakeBackend be;
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	MappedMemory mem(32 << 20);
	EXPECT_EQ(error_of([&] { virtio::Fs fs("t", fe, mem); }), "virtio-fs t: guest memory is not shared");
}

TEST(VirtioFs, ConfigHoldsTheTagAndOneRequestQueue) {
	FakeBackend be;
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	MappedMemory mem(32 << 20, true);
	virtio::Fs fs(std::string(36, 'x'), fe, mem);
	virtio::Transport t(fs, mem, [] {});
	EXPECT_EQ(reg(t, 0x8), 26u);
	uint8_t cfg[40] = {};
	t.read(0x100, cfg, 4);
	t.read(0x104, cfg + 4, 4);
	for (uint64_t off = 8; off < 40; off += 4) t.read(0x100 + off, cfg + off, 4);
	EXPECT_EQ(std::string(reinterpret_cast<char*>(cfg), 36), std::string(36, 'x'));
	EXPECT_EQ(get32(cfg + 36), 1u);
	EXPECT_EQ(reg(t, 0x100 + 40), 0u);  // past the end
	EXPECT_NE(error_of([&] { virtio::Fs f2(std::string(37, 'x'), fe, mem); }), "no error");
	// Ring features pass through from the backend, nothing else.
	reg(t, 0x14, 0);
	EXPECT_EQ(reg(t, 0x10), (1u << 28) | (1u << 29));
	// No shared memory region (a DAX window): its length reads as ~0,
	// which a kernel with FUSE_DAX takes for "none".
	reg(t, 0xac, 0);
	EXPECT_EQ(reg(t, 0xb0), 0xffffffffu);
	EXPECT_EQ(reg(t, 0xb4), 0xffffffffu);
}

TEST(VirtioFs, DriverOkHandsTheRingsToTheBackend) {
	FakeBackend be;
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 2000);
	MappedMemory mem(32 << 20, true);
	virtio::Fs fs("t", fe, mem);
	int kick0 = dup(0), kick1 = dup(0), call = dup(0);
	fs.connect({kick0, kick1}, call);
	virtio::Transport t(fs, mem, [] {});
	probe(t);
	EXPECT_EQ(reg(t, 0x60), 1u);  // the used-buffer bit, for the backend's irqfd
	std::vector<uint32_t> ring = {kSetVringNum, kSetVringBase, kSetVringAddr, kSetVringKick, kSetVringCall, kSetVringEnable};
	std::vector<uint32_t> want = {kSetOwner, kGetFeatures, kGetProtocolFeatures, kSetProtocolFeatures, kGetQueueNum,
	                              kSetFeatures, kSetMemTable};
	want.insert(want.end(), ring.begin(), ring.end());
	want.insert(want.end(), ring.begin(), ring.end());
	EXPECT_EQ(be.requests(), want);
	struct stat mine, theirs;
	ASSERT_EQ(fstat(mem.regions()[0].fd, &mine), 0);
	be.inspect([&](auto& got) {
		EXPECT_EQ(get64(got[5].payload.data()), kVersion1 | kFeatureProtocolFeatures);
		const Received& mt = got[6];
		ASSERT_EQ(mt.fds.size(), 1u);
		ASSERT_EQ(fstat(mt.fds[0].get(), &theirs), 0);
		EXPECT_EQ(mine.st_ino, theirs.st_ino);  // the guest's memfd itself
		EXPECT_EQ(get64(mt.payload.data() + 8 + 16), reinterpret_cast<uint64_t>(mem.regions()[0].host));
		const Received& addr1 = got[7 + 6 + 2];
		EXPECT_EQ(get32(addr1.payload.data()), 1u);
		EXPECT_EQ(get64(addr1.payload.data() + 8), reinterpret_cast<uint64_t>(mem.ptr(0x14000, 1)));
		EXPECT_EQ(get64(addr1.payload.data() + 16), reinterpret_cast<uint64_t>(mem.ptr(0x16000, 1)));
		EXPECT_EQ(get64(addr1.payload.data() + 24), reinterpret_cast<uint64_t>(mem.ptr(0x15000, 1)));
		EXPECT_EQ(get64(got[7 + 3].payload.data()), 0u);  // kick of queue 0
		ASSERT_EQ(got[7 + 6 + 3].fds.size(), 1u);
		struct stat a, b;
		fstat(got[7 + 6 + 3].fds[0].get(), &a);
		fstat(kick1, &b);
		EXPECT_EQ(a.st_ino, b.st_ino);
	});
	std::string d = t.describe();
	EXPECT_EQ(d.rfind("virtio device 26 (tag t): status 0xf, interrupt 0x0; q0 ", 0), 0u) << d;
	// A reset stops both rings and clears the bit.
	reg(t, 0x70, 0);
	EXPECT_EQ(reg(t, 0x60), 0u);
	auto r = be.requests();
	ASSERT_EQ(r.size(), want.size() + 2);
	EXPECT_EQ(r[want.size()], kGetVringBase);
	EXPECT_EQ(r[want.size() + 1], kGetVringBase);
	close(kick0);
	close(kick1);
	close(call);
}

TEST(VirtioFs, HungUpBackendAtDriverOkIsAnError) {
	FakeBackend be;
	Frontend fe(be.take_frontend_end(), "virtio-fs t", 500);
	MappedMemory mem(32 << 20, true);
	virtio::Fs fs("t", fe, mem);
	int e = dup(0);
	fs.connect({e, e}, e);
	virtio::Transport t(fs, mem, [] {});
	be.hang_up();
	std::string err = error_of([&] { probe(t); });
	EXPECT_TRUE(err.rfind("virtio-fs t: vhost-user SET_FEATURES", 0) == 0) << err;
	close(e);
}

}  // namespace
