// Unit tests for lib/vsock/control: framing, fd passing, hostile messages.
#include "vsock/control.hh"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.hh"

using namespace bencher;
using namespace bencher::vsock;

TEST(VsockControl, RoundTripWithFd) {
	UniqueFd a, b, s1, s2;
	control_pair(a, b);
	stream_pair(s1, s2);
	ControlMsg m;
	m.type = static_cast<uint16_t>(MsgType::guest_connect);
	m.conn_id = 7;
	m.host_port = kPortStdout;
	m.guest_port = 1025;
	send_msg(a.get(), m, s1.get());
	ControlMsg got;
	UniqueFd fd;
	ASSERT_TRUE(recv_msg(b.get(), got, fd));
	EXPECT_EQ(got.conn_id, 7u);
	EXPECT_EQ(got.host_port, kPortStdout);
	EXPECT_EQ(got.guest_port, 1025u);
	ASSERT_TRUE(fd.valid());
	EXPECT_TRUE(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
	// The passed fd is the same connection.
	ASSERT_EQ(write(fd.get(), "x", 1), 1);
	char c = 0;
	ASSERT_EQ(read(s2.get(), &c, 1), 1);
	EXPECT_EQ(c, 'x');
	a.reset();
	EXPECT_FALSE(recv_msg(b.get(), got, fd));
}

TEST(VsockControl, ReplyWithoutFd) {
	UniqueFd a, b;
	control_pair(a, b);
	ControlMsg m;
	m.type = static_cast<uint16_t>(MsgType::refuse);
	m.conn_id = 9;
	send_msg(a.get(), m);
	ControlMsg got;
	UniqueFd fd;
	ASSERT_TRUE(recv_msg(b.get(), got, fd));
	EXPECT_EQ(got.type, static_cast<uint16_t>(MsgType::refuse));
	EXPECT_FALSE(fd.valid());
}

TEST(VsockControl, HostileMessages) {
	UniqueFd a, b;
	control_pair(a, b);
	ControlMsg got;
	UniqueFd fd;
	// Short message.
	ASSERT_EQ(send(a.get(), "abc", 3, 0), 3);
	EXPECT_THROW(recv_msg(b.get(), got, fd), Error);
	// Oversized message.
	char big[100] = {};
	ASSERT_EQ(send(a.get(), big, sizeof big, 0), 100);
	EXPECT_THROW(recv_msg(b.get(), got, fd), Error);
	// Bad magic, version, type.
	ControlMsg m;
	m.type = 2;
	m.magic = 1;
	send_msg(a.get(), m);
	EXPECT_THROW(recv_msg(b.get(), got, fd), Error);
	m = ControlMsg{};
	m.type = 2;
	m.version = 9;
	send_msg(a.get(), m);
	EXPECT_THROW(recv_msg(b.get(), got, fd), Error);
	m = ControlMsg{};
	m.type = 77;
	send_msg(a.get(), m);
	EXPECT_THROW(recv_msg(b.get(), got, fd), Error);
	// GUEST_CONNECT without fd; ACCEPT with one (which must not leak).
	m = ControlMsg{};
	m.type = static_cast<uint16_t>(MsgType::guest_connect);
	send_msg(a.get(), m);
	EXPECT_THROW(recv_msg(b.get(), got, fd), Error);
	UniqueFd s1, s2;
	stream_pair(s1, s2);
	m.type = static_cast<uint16_t>(MsgType::accept);
	send_msg(a.get(), m, s1.get());
	s1.reset();
	EXPECT_THROW(recv_msg(b.get(), got, fd), Error);
	// The stray fd was closed: its peer now sees EOF.
	char c;
	EXPECT_EQ(read(s2.get(), &c, 1), 0);
}
