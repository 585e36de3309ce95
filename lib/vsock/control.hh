// control.hh: the vsock control protocol between bencher-vmm and the host
// program that serves the guest's vsock connections (collect-results).
//
// The VMM is handed one end of an AF_UNIX SOCK_SEQPACKET socket (--vsock-fd).
// It opens no path: every vsock connection reaches the host as one end of a
// fresh AF_UNIX SOCK_STREAM socketpair, passed over the control socket with
// SCM_RIGHTS. Bytes written to that stream are the connection's data; EOF
// either way is a shutdown. See bencher-vsock(7).
//
//   guest connects to host port P     VMM -> host  GUEST_CONNECT(id, P, guest port) + fd
//                                     host -> VMM  ACCEPT(id) | REFUSE(id)
//   host connects to guest port P     host -> VMM  HOST_CONNECT(id, host port, P) + fd
//                                     VMM -> host  CONNECTED(id) | CONNECT_FAILED(id)
//
// Until the host answers ACCEPT, the VMM does not answer the guest's request
// (the guest's connect() waits); REFUSE resets it (connect() fails).
#pragma once

#include <cstdint>

#include "common/fd.hh"

namespace bencher::vsock {

constexpr uint32_t kHostCid = 2;
constexpr uint32_t kGuestCid = 3;

// The results channel's ports (bencher-init -> collect-results).
constexpr uint32_t kPortStdout = 5000;
constexpr uint32_t kPortStderr = 5001;
constexpr uint32_t kPortExitCode = 5002;
constexpr uint32_t kPortHmac = 5003;
constexpr uint32_t kPortConfig = 5004;  // run config, host -> guest
constexpr uint32_t kPortFiles = 5005;

constexpr uint32_t kControlMagic = 0x4b535642;  // "BVSK"
constexpr uint16_t kControlVersion = 1;

enum class MsgType : uint16_t {
	guest_connect = 1,   // VMM -> host, carries an fd
	accept = 2,          // host -> VMM
	refuse = 3,          // host -> VMM
	host_connect = 4,    // host -> VMM, carries an fd
	connected = 5,       // VMM -> host
	connect_failed = 6,  // VMM -> host
};

// One record per SOCK_SEQPACKET message, host byte order (both ends run on
// the same host).
struct ControlMsg {
	uint32_t magic = kControlMagic;
	uint16_t version = kControlVersion;
	uint16_t type = 0;
	uint64_t conn_id = 0;    // chosen by the side that starts the connection
	uint32_t host_port = 0;  // the port on the host (CID 2) side
	uint32_t guest_port = 0; // the port on the guest (CID 3) side
	uint32_t guest_cid = kGuestCid;
	uint32_t reserved = 0;
};
static_assert(sizeof(ControlMsg) == 32, "ControlMsg is a fixed 32-byte record");

const char* msg_type_name(uint16_t type);
// Whether a message of this type must (true) or must not (false) carry an fd.
bool msg_carries_fd(uint16_t type);

// Sends one message, with fd attached when fd >= 0. Throws on error.
void send_msg(int sock, const ControlMsg& msg, int fd = -1);

// Receives one message; returns false on orderly EOF. A malformed message
// (wrong size, magic, version or type, an fd where none belongs or none where
// one must be, more than one fd) is an Error; any fd that came with it is
// closed. On success `fd` holds the attached fd, if any.
bool recv_msg(int sock, ControlMsg& msg, UniqueFd& fd);

// A connected SOCK_SEQPACKET pair for the control channel, both ends CLOEXEC.
void control_pair(UniqueFd& a, UniqueFd& b);
// A connected SOCK_STREAM pair for one vsock connection, both ends CLOEXEC.
void stream_pair(UniqueFd& a, UniqueFd& b);

}  // namespace bencher::vsock
