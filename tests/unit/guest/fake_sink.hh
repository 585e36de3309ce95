// fake_sink.hh: a ResultSink for lib/guest's unit tests. It keeps what each
// port was sent and the order of sends, closes and the finish, and can call
// back on every send, so a test can act while the workload still runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "guest/sink.hh"

namespace bencher::guest::test {

class FakeSink : public ResultSink {
public:
	void send(uint32_t port, std::string_view data) override {
		if (data.empty()) return;
		data_[port] += data;
		// Runs of sends to one port are one event: the order of ports is
		// what the tests look at, not how the bytes were chunked.
		std::string ev = "send " + std::to_string(port);
		if (events_.empty() || events_.back() != ev) events_.push_back(ev);
		if (on_send) on_send(port, data_[port]);
	}
	void close(uint32_t port) override { events_.push_back("close " + std::to_string(port)); }
	void finish() override { events_.push_back("finish"); }

	std::string data(uint32_t port) const {
		auto it = data_.find(port);
		return it == data_.end() ? std::string() : it->second;
	}
	const std::vector<std::string>& events() const { return events_; }

	// Called after each send with everything the port has had so far.
	std::function<void(uint32_t port, const std::string& so_far)> on_send;

private:
	std::map<uint32_t, std::string> data_;
	std::vector<std::string> events_;
};

}  // namespace bencher::guest::test
