// Unit tests for lib/vmtest/report: the status lines, TAP as prove reads it
// and JUnit XML, with names and messages that would break either format
// (newlines, '#', markup, control bytes, invalid UTF-8).
#include "vmtest/report.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hh"
#include "../common/error_of.hh"

using bencher::test::error_of;
using namespace bencher::vmtest;

namespace {

std::vector<TargetResult> two() {
	TargetResult a;
	a.name = "six two";
	a.passed = true;
	a.outcome = "passed";
	a.duration_ms = 1500;
	TargetResult b;
	b.name = "six one";
	b.exit_code = 1;
	b.outcome = "failed";
	b.message = "exit code 1";
	b.duration_ms = 2042;
	return {a, b};
}

}  // namespace

TEST(VmtestReport, StatusLines) {
	auto r = two();
	EXPECT_EQ("PASS six two", status_line(r[0]));
	EXPECT_EQ("FAIL six one: exit code 1", status_line(r[1]));
}

TEST(VmtestReport, Tap) {
	EXPECT_EQ("TAP version 13\n1..2\nok 1 - six two\nnot ok 2 - six one\n# exit code 1\n", render(Format::tap, two()));
	TargetResult odd;
	odd.name = "a # b\nok 7";
	odd.message = "line\nnot ok";
	EXPECT_EQ("TAP version 13\n1..1\nnot ok 1 - a \\# b ok 7\n# line not ok\n", render(Format::tap, {odd}));
	EXPECT_EQ("TAP version 13\n1..0\n", render(Format::tap, {}));
}

TEST(VmtestReport, Junit) {
	EXPECT_EQ(
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites tests=\"2\" failures=\"1\" time=\"3.542\">\n"
	    "  <testsuite name=\"bencher-vmtest\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"3.542\">\n"
	    "    <testcase classname=\"bencher-vmtest\" name=\"six two\" time=\"1.500\"/>\n"
	    "    <testcase classname=\"bencher-vmtest\" name=\"six one\" time=\"2.042\">\n"
	    "      <failure type=\"failed\" message=\"exit code 1\"/>\n"
	    "    </testcase>\n"
	    "  </testsuite>\n"
	    "</testsuites>\n",
	    render(Format::junit, two()));
	EXPECT_EQ("", render(Format::text, two()));
}

TEST(VmtestReport, XmlEscapeHostile) {
	EXPECT_EQ("&lt;a href=&quot;x&quot;&gt;&amp;&apos;", xml_escape("<a href=\"x\">&'"));
	EXPECT_EQ("a&#10;b&#9;c&#13;", xml_escape("a\nb\tc\r"));
	// Control bytes XML 1.0 cannot hold, and broken UTF-8.
	EXPECT_EQ("\xef\xbf\xbd\xef\xbf\xbd", xml_escape(std::string("\0\x1b", 2)));
	EXPECT_EQ("\xef\xbf\xbdz", xml_escape("\xc3z"));             // truncated sequence
	EXPECT_EQ("\xef\xbf\xbd\xef\xbf\xbd", xml_escape("\xc0\xaf"));  // overlong '/'
	EXPECT_EQ("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", xml_escape("\xed\xa0\x80"));  // a surrogate
	EXPECT_EQ("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", xml_escape("\xef\xbf\xbf"));  // U+FFFF
	EXPECT_EQ("\xef\xbf\xbd", xml_escape("\xff"));
	EXPECT_EQ("h\xc3\xa9 \xf0\x9f\x99\x82", xml_escape("h\xc3\xa9 \xf0\x9f\x99\x82"));
}

TEST(VmtestReport, Formats) {
	EXPECT_EQ(Format::tap, parse_format("tap"));
	EXPECT_EQ(Format::junit, parse_format("junit"));
	EXPECT_EQ(Format::text, parse_format("text"));
	EXPECT_EQ("--format: expected text, tap or junit, got 'xml' (try --help)", error_of([] { parse_format("xml"); }));
}
