// error_of.hh: for unit tests of any area: the message of the bencher::Error
// a call throws, so a test compares it whole ("(no error)" when none is).
#pragma once

#include <functional>
#include <string>

#include "common/error.hh"

namespace bencher::test {

inline std::string error_of(const std::function<void()>& fn) {
	try {
		fn();
	} catch (const Error& e) {
		return e.what();
	}
	return "(no error)";
}

}  // namespace bencher::test
