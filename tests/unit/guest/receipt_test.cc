// Unit tests for lib/guest/receipt and the vsock sink: bencher-init's side
// of the results channel against a small host played by this test over the
// real lib/vsock control socket (as collect-results serves it in test mode):
// the config and key received, the key wiped, the HMAC over all that was
// sent, the serial fallback when the host refuses.
#include "guest/receipt.hh"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "common/error.hh"
#include "common/fd.hh"
#include "results/protocol.hh"
#include "vsock/control.hh"

namespace guest = bencher::guest;
namespace results = bencher::results;
namespace vsock = bencher::vsock;
using bencher::UniqueFd;

namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

// Answers the guest's connections: port 5004 gets the config and is closed,
// the others are kept for the test to read. refuse: every one is refused.
class FakeHost {
public:
	FakeHost(std::string config_wire, bool refuse) : wire_(std::move(config_wire)), refuse_(refuse) {
		vsock::control_pair(guest_end_, host_end_);
	}
	int guest_fd() const { return guest_end_.get(); }

	// Serves `n` connection requests on this thread.
	void serve(int n) {
		for (int i = 0; i < n; i++) {
			vsock::ControlMsg m;
			UniqueFd fd;
			if (!vsock::recv_msg(host_end_.get(), m, fd)) return;
			vsock::ControlMsg reply;
			reply.conn_id = m.conn_id;
			reply.type = static_cast<uint16_t>(refuse_ ? vsock::MsgType::refuse : vsock::MsgType::accept);
			vsock::send_msg(host_end_.get(), reply);
			if (refuse_) continue;
			if (m.host_port == vsock::kPortConfig) bencher::write_all(fd.get(), wire_, "config");
			else ports_[m.host_port] = std::move(fd);
		}
	}
	std::string read_port(uint32_t port) { return bencher::read_all(ports_.at(port).get(), 1 << 20, "port"); }
	void close_port(uint32_t port) { ports_.erase(port); }

private:
	std::string wire_;
	bool refuse_;
	UniqueFd guest_end_, host_end_;
	std::map<uint32_t, UniqueFd> ports_;
};

results::RunConfig config(const std::string& key) {
	results::RunConfig c;
	c.argv = {"true"};
	c.hmac_key = key;
	return c;
}

}  // namespace

TEST(Receipt, ConfigOverVsockAndTheHmacOverEverything) {
	std::string wire = results::encode_config(config(kKey));
	FakeHost host(wire, false);
	guest::Connector conn(host.guest_fd());
	std::thread t([&] { host.serve(6); });  // the config, then five result ports
	guest::Channel ch = guest::open_channel(conn, {});
	t.join();
	EXPECT_TRUE(ch.cfg.hmac_key.empty());  // only the sink holds it
	EXPECT_EQ(ch.cfg.argv, std::vector<std::string>{"true"});
	ASSERT_NE(dynamic_cast<guest::VsockSink*>(ch.sink.get()), nullptr);

	ch.sink->send(vsock::kPortStdout, "hello");
	ch.sink->close(vsock::kPortStdout);
	EXPECT_EQ(host.read_port(vsock::kPortStdout), "hello");
	std::string hmac_line;
	std::thread reader([&] {
		hmac_line = host.read_port(vsock::kPortHmac);
		host.close_port(vsock::kPortHmac);  // the acknowledgement finish() waits for
	});
	ch.sink->finish();
	reader.join();

	results::ResultDigest d;
	d.add(vsock::kPortConfig, wire);
	d.add(vsock::kPortStdout, "hello");
	EXPECT_EQ(hmac_line, d.hmac_hex(kKey) + "\n");
}

TEST(Receipt, CorruptPortFlipsAByteAfterHashing) {
	std::string wire = results::encode_config(config(kKey));
	FakeHost host(wire, false);
	guest::Connector conn(host.guest_fd());
	std::thread t([&] { host.serve(6); });
	guest::ChannelOptions o;
	o.corrupt_port = vsock::kPortStdout;
	guest::Channel ch = guest::open_channel(conn, o);
	t.join();
	ch.sink->send(vsock::kPortStdout, "hello");
	ch.sink->send(vsock::kPortStdout, "hello");
	ch.sink->close(vsock::kPortStdout);
	EXPECT_EQ(host.read_port(vsock::kPortStdout), "iellohello");  // only the first byte sent
}

TEST(Receipt, ConfigWithoutKeyIsRefused) {
	FakeHost host(results::encode_config(config("")), false);
	guest::Connector conn(host.guest_fd());
	std::thread t([&] { host.serve(1); });
	try {
		guest::open_channel(conn, {});
		ADD_FAILURE() << "no error";
	} catch (const bencher::Error& e) {
		EXPECT_STREQ(e.what(), "run config: no HMAC key");
	}
	t.join();
}

TEST(Receipt, RefusedVsockFallsBackToTheSerialConsole) {
	bencher::TempDir dir("guest-receipt");
	std::string file = dir.path() + "/run.cfg";
	{
		UniqueFd fd(open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
		bencher::write_all(fd.get(), results::encode_config(config("")), "config");
	}
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	UniqueFd console_r(p[0]), console_w(p[1]);

	FakeHost host("", true);
	guest::Connector conn(host.guest_fd());
	std::thread t([&] { host.serve(1); });
	guest::ChannelOptions o;
	o.config_file = file;
	o.remove_config_file = true;
	o.console_fd = console_w.get();
	guest::Channel ch = guest::open_channel(conn, o);
	t.join();
	EXPECT_EQ(ch.cfg.argv, std::vector<std::string>{"true"});
	EXPECT_NE(access(file.c_str(), F_OK), 0);  // removed: the workload has no use for it
	ch.sink->finish();
	console_w.reset();
	ch.sink.reset();
	std::string console = bencher::read_all(console_r.get(), 1 << 20, "console");
	EXPECT_EQ(console.rfind("@@BR1:B:0:", 0), 0u) << console;
	EXPECT_NE(console.find("@@BR1:Z:1:"), std::string::npos) << console;
}
