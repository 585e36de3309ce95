// Unit tests for lib/results/channel: the accept policy, the port demux and
// the HMAC, with this test playing the VMM and the guest over real socket
// pairs (the fake connections), honest and hostile.
#include "results/channel.hh"

#include <gtest/gtest.h>

#include "common/error.hh"

using namespace bencher;
using namespace bencher::results;
using vsock::ControlMsg;
using vsock::MsgType;

namespace {

using Decision = AcceptPolicy::Decision;

struct Rig {
	RunConfig config;
	std::string out, err, files;
	int configs = 0, exits = 0;
	std::vector<HmacStatus> checks;
	UniqueFd host_ctl, vmm_ctl;
	Channel ch;
	uint64_t next_id = 0;
	ResultDigest guest;  // what an honest bencher-init hashes

	Rig() : config(make_config()), ch(config, sink()) { vsock::control_pair(host_ctl, vmm_ctl); }

	static RunConfig make_config() {
		RunConfig c;
		c.argv = {"true"};
		c.hmac_key = std::string(32, 'k');
		return c;
	}
	Channel::Sink sink() {
		return {[this](std::string_view d) { out.append(d); }, [this](std::string_view d) { err.append(d); },
		        [this](std::string_view d) { files.append(d); }, [this] { configs++; }, [this] { exits++; },
		        [this](HmacStatus h) { checks.push_back(h); }};
	}
	// The guest connects to `port` through the VMM; returns the guest's end
	// of the connection, or no fd when the host refused.
	UniqueFd connect(uint32_t port) {
		UniqueFd host_end, guest_end;
		vsock::stream_pair(host_end, guest_end);
		ControlMsg m;
		m.type = static_cast<uint16_t>(MsgType::guest_connect);
		m.conn_id = ++next_id;
		m.host_port = port;
		m.guest_port = 1024 + static_cast<uint32_t>(next_id);
		vsock::send_msg(vmm_ctl.get(), m, host_end.get());
		host_end.reset();
		ch.control(host_ctl);
		ControlMsg reply;
		UniqueFd none;
		EXPECT_TRUE(vsock::recv_msg(vmm_ctl.get(), reply, none));
		EXPECT_EQ(reply.conn_id, m.conn_id);
		if (reply.type == static_cast<uint16_t>(MsgType::refuse)) return UniqueFd();
		EXPECT_EQ(reply.type, static_cast<uint16_t>(MsgType::accept));
		return guest_end;
	}
	std::string take_config() {
		UniqueFd g = connect(vsock::kPortConfig);
		std::string wire = read_all(g.get(), kMaxConfigBytes, "config");
		guest.add(vsock::kPortConfig, wire);
		return wire;
	}
	void send(UniqueFd& g, uint32_t port, std::string_view data, bool hash = true) {
		write_all(g.get(), data, "guest");
		if (hash) guest.add(port, data);
		ch.readable(port);
	}
	void close(UniqueFd& g, uint32_t port) {
		g.reset();
		ch.readable(port);
	}
};

ExitRecord exited(int code) {
	ExitRecord r;
	r.exit_code = code;
	return r;
}

}  // namespace

TEST(AcceptPolicy, ConfigFirstThenEachResultPortOnce) {
	AcceptPolicy p;
	EXPECT_EQ(p.decide(vsock::kPortStdout), Decision::refuse);  // before the config
	EXPECT_EQ(p.decide(vsock::kPortConfig), Decision::config);
	EXPECT_EQ(p.decide(vsock::kPortConfig), Decision::refuse);  // the config once
	for (uint32_t port : {5000u, 5001u, 5002u, 5003u, 5005u}) EXPECT_EQ(p.decide(port), Decision::result) << port;
	for (uint32_t port : {5000u, 5001u, 5002u, 5003u, 5005u}) EXPECT_EQ(p.decide(port), Decision::refuse) << port;
	for (uint32_t port : {0u, 4999u, 5006u, 0xffffffffu}) EXPECT_EQ(p.decide(port), Decision::refuse) << port;
	EXPECT_EQ(p.refused(), 11u);
}

TEST(Channel, AnHonestRunPassesItsHmac) {
	Rig r;
	EXPECT_EQ(r.take_config(), encode_config(r.config));
	EXPECT_EQ(r.configs, 1);
	EXPECT_EQ(r.ch.transport(), Transport::vsock);
	UniqueFd out = r.connect(5000), err = r.connect(5001), code = r.connect(5002), hmac = r.connect(5003);
	r.send(out, 5000, "hello ");
	r.send(err, 5001, "oops");
	r.send(out, 5000, "world");
	r.send(code, 5002, format_exit(exited(3)));
	r.close(out, 5000);
	r.close(err, 5001);
	r.close(code, 5002);
	EXPECT_EQ(r.exits, 1);
	EXPECT_FALSE(r.ch.quiet());
	r.send(hmac, 5003, r.guest.hmac_hex(r.config.hmac_key) + "\n", false);
	EXPECT_EQ(r.checks, std::vector<HmacStatus>{HmacStatus::passed});
	EXPECT_EQ(r.ch.hmac(), HmacStatus::passed);
	EXPECT_EQ(read_all(hmac.get(), 16, "ack"), "ok\n");
	EXPECT_TRUE(r.ch.quiet());
	EXPECT_EQ(r.out, "hello world");
	EXPECT_EQ(r.err, "oops");
	std::string why;
	auto rec = r.ch.exit_record(false, why);
	ASSERT_TRUE(rec);
	EXPECT_EQ(rec->exit_code, 3);
	EXPECT_EQ(why, "");
}

TEST(Channel, ATamperedByteFailsTheHmac) {
	Rig r;
	r.take_config();
	UniqueFd out = r.connect(5000), hmac = r.connect(5003);
	r.send(out, 5000, "hellO", false);
	r.guest.add(5000, "hello");  // what the guest really sent
	r.close(out, 5000);
	r.send(hmac, 5003, r.guest.hmac_hex(r.config.hmac_key) + "\n", false);
	EXPECT_EQ(r.ch.hmac(), HmacStatus::failed);
}

TEST(Channel, ForgedAndSurplusConnectionsAreRefused) {
	Rig r;
	EXPECT_FALSE(r.connect(5000));  // before the config: a workload's, not init's
	r.take_config();
	EXPECT_FALSE(r.connect(vsock::kPortConfig));
	UniqueFd out = r.connect(5000);
	ASSERT_TRUE(out);
	EXPECT_FALSE(r.connect(5000));
	EXPECT_FALSE(r.connect(22));
	EXPECT_EQ(r.ch.refused(), 4u);
	r.send(out, 5000, "real");
	EXPECT_EQ(r.out, "real");
}

TEST(Channel, HostileHmacAndExitRecords) {
	Rig r;
	r.take_config();
	UniqueFd code = r.connect(5002), hmac = r.connect(5003);
	r.send(hmac, 5003, std::string(200, 'a'), false);  // no line ever: cut, and failed
	r.send(code, 5002, "0\n");
	std::string why;
	EXPECT_FALSE(r.ch.exit_record(false, why));  // not ended: incomplete
	EXPECT_EQ(why, "exit record incomplete");
	r.send(code, 5002, std::string(kMaxExitRecordBytes, 'x'));
	r.close(code, 5002);
	EXPECT_EQ(r.ch.hmac(), HmacStatus::failed);
	EXPECT_FALSE(r.ch.exit_record(false, why));
	EXPECT_EQ(why, "exit record too long");
}

TEST(Channel, TheSerialFallbackAndItsForgeries) {
	Rig serial;
	serial.ch.serial_record('O', "via serial");
	serial.ch.serial_record('X', format_exit(exited(5)));
	serial.ch.serial_record('Q', "unknown type: ignored");
	EXPECT_EQ(serial.ch.transport(), Transport::serial);
	EXPECT_EQ(serial.ch.hmac(), HmacStatus::unavailable);
	EXPECT_EQ(serial.out, "via serial");
	std::string why;
	EXPECT_FALSE(serial.ch.exit_record(false, why));  // no end record yet
	auto rec = serial.ch.exit_record(true, why);
	ASSERT_TRUE(rec);
	EXPECT_EQ(rec->exit_code, 5);
	// Once vsock carried the config, console records are a workload's forgeries.
	Rig vs;
	vs.take_config();
	vs.ch.serial_record('O', "forged");
	vs.ch.serial_record('X', "0\n");
	EXPECT_EQ(vs.out, "");
	EXPECT_EQ(vs.exits, 0);
	EXPECT_EQ(vs.ch.transport(), Transport::vsock);
}
