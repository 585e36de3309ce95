// Unit tests for lib/results/protocol: run config, exit record, file stream,
// HMAC and the output limit, with hostile input for every decoder.
#include "results/protocol.hh"

#include <gtest/gtest.h>

#include "common/error.hh"
#include "results/codec.hh"

using namespace bencher;
using namespace bencher::results;

namespace {

RunConfig sample() {
	RunConfig c;
	c.argv = {"sh", "-c", std::string("echo \xff\x01", 7)};
	c.env = {"A=1", "PATH=/bin"};
	c.workdir = "/work";
	c.user = "1000:1000";
	c.files = {"/tmp/out.json", "/a/b"};
	c.cgroup = "bench/w";
	c.max_output_bytes = 123;
	c.max_file_bytes = 456;
	c.max_files_total_bytes = 789;
	c.hmac_key = std::string(32, 'k');
	return c;
}

std::string rewrap(const std::string& body) {
	Writer w;
	w.u32(0x31435242);
	w.u32(static_cast<uint32_t>(body.size()));
	w.bytes(body);
	return w.str();
}

std::string tlv(uint8_t tag, std::string_view v) {
	Writer w;
	w.u8(tag);
	w.u32(static_cast<uint32_t>(v.size()));
	w.bytes(v);
	return w.str();
}

void expect_error(const std::function<void()>& f, const std::string& needle) {
	try {
		f();
		ADD_FAILURE() << "no error, expected: " << needle;
	} catch (const Error& e) {
		EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
	}
}

}  // namespace

TEST(RunConfig, RoundTrip) {
	RunConfig c = sample();
	RunConfig d = decode_config(encode_config(c));
	EXPECT_EQ(d.argv, c.argv);
	EXPECT_EQ(d.env, c.env);
	EXPECT_EQ(d.workdir, c.workdir);
	EXPECT_EQ(d.user, c.user);
	EXPECT_EQ(d.files, c.files);
	EXPECT_EQ(d.cgroup, c.cgroup);
	EXPECT_EQ(d.max_output_bytes, 123u);
	EXPECT_EQ(d.max_file_bytes, 456u);
	EXPECT_EQ(d.max_files_total_bytes, 789u);
	EXPECT_EQ(d.hmac_key, c.hmac_key);
}

TEST(RunConfig, ValidationNamesTheField) {
	auto bad = [](auto mutate, const std::string& needle) {
		RunConfig c = sample();
		mutate(c);
		expect_error([&] { validate(c); }, needle);
	};
	bad([](RunConfig& c) { c.argv.clear(); }, "argv: empty");
	bad([](RunConfig& c) { c.argv[0] = ""; }, "argv[0]");
	bad([](RunConfig& c) { c.argv.push_back(std::string("a\0b", 3)); }, "NUL");
	bad([](RunConfig& c) { c.env.push_back("NOEQUALS"); }, "KEY=VALUE");
	bad([](RunConfig& c) { c.env.push_back("=x"); }, "KEY=VALUE");
	bad([](RunConfig& c) { c.workdir = "rel"; }, "workdir");
	bad([](RunConfig& c) { c.files = {"rel/path"}; }, "absolute");
	bad([](RunConfig& c) { c.files = {"/a/../etc/passwd"}; }, "'..'");
	bad([](RunConfig& c) { c.files = {"/a//b"}; }, "empty component");
	bad([](RunConfig& c) { c.files = {"/"}; }, "root");
	bad([](RunConfig& c) { c.files = {"/x", "/x"}; }, "twice");
	bad([](RunConfig& c) { c.files.assign(256, "/x"); }, "more than 255");
	bad([](RunConfig& c) { c.cgroup = "../escape"; }, "cgroup");
	bad([](RunConfig& c) { c.hmac_key = "short"; }, "hmac key");
	bad([](RunConfig& c) { c.user = "a\nb"; }, "user");
	bad([](RunConfig& c) { c.max_output_bytes = kMaxLimit + 1; }, "max_output_bytes");
	RunConfig c = sample();
	c.cgroup = "/lead/trail/";
	validate(c);
	EXPECT_EQ(c.cgroup, "lead/trail");
}

TEST(RunConfig, HostileWire) {
	std::string good = encode_config(sample());
	expect_error([&] { decode_config(""); }, "truncated");
	expect_error([&] { decode_config("XXXX" + good.substr(4)); }, "bad magic");
	expect_error([&] { decode_config(good + "x"); }, "length");
	expect_error([&] { decode_config(good.substr(0, good.size() - 1)); }, "length");
	// A length field pointing past the end.
	expect_error([&] { decode_config(rewrap(std::string("\x01\xff\xff\xff\xff", 5))); }, "truncated");
	expect_error([&] { decode_config(rewrap(tlv(1, "sh") + tlv(99, "x"))); }, "unknown field 99");
	expect_error([&] { decode_config(rewrap(tlv(1, "sh") + tlv(3, "/") + tlv(3, "/"))); }, "given twice");
	expect_error([&] { decode_config(rewrap(tlv(1, "sh") + tlv(7, "123"))); }, "8 bytes");
	expect_error([&] { decode_config(rewrap(tlv(3, "/"))); }, "argv: empty");
	std::string many;
	for (int i = 0; i < 300; i++) many += tlv(5, "/f" + std::to_string(i));
	expect_error([&] { decode_config(rewrap(tlv(1, "sh") + many)); }, "too many");
	expect_error([&] { decode_config(std::string(kMaxConfigBytes + 1, 'x')); }, "larger than 1 MiB");
	// A minimal config gets the defaults.
	RunConfig m = decode_config(rewrap(tlv(1, "true")));
	EXPECT_EQ(m.workdir, "/");
	EXPECT_EQ(m.max_output_bytes, kDefaultMaxOutput);
	EXPECT_TRUE(m.hmac_key.empty());
}

TEST(ExitRecord, RoundTripAndPlainCode) {
	ExitRecord r;
	r.exit_code = 137;
	r.signal = 9;
	r.stdout_bytes = 20000000;
	r.stderr_bytes = 5;
	r.stdout_truncated = true;
	r.error = "exec foo: No such file\x01";
	ExitRecord p = parse_exit(format_exit(r));
	EXPECT_EQ(p.exit_code, 137);
	EXPECT_EQ(p.signal, 9);
	EXPECT_EQ(p.stdout_bytes, 20000000u);
	EXPECT_TRUE(p.stdout_truncated);
	EXPECT_FALSE(p.stderr_truncated);
	EXPECT_EQ(p.error, "exec foo: No such file?");
	EXPECT_EQ(parse_exit("42").exit_code, 42);
	EXPECT_EQ(parse_exit("0\n").exit_code, 0);
}

TEST(ExitRecord, Hostile) {
	for (const char* bad : {"", "256", "-1", "042", "1x", " 1", "1\nsignal=65", "1\nsignal=1\nsignal=1", "1\nnope=1",
	                        "1\nnoequals", "1\nstdout_truncated=2", "1\nstdout_bytes=99999999999999999999999"})
		EXPECT_THROW(parse_exit(bad), Error) << bad;
	EXPECT_THROW(parse_exit("1\nerror=\x07"), Error);
	EXPECT_THROW(parse_exit(std::string(kMaxExitRecordBytes + 1, '1')), Error);
}

namespace {
struct Collected {
	std::vector<std::string> names;
	std::vector<FileStatus> status;
	std::vector<std::string> data;
	std::vector<bool> ended;
};

FileStreamParser collector(Collected& c, std::vector<std::string> expected, uint64_t max_file = 1000, uint64_t total = 10000) {
	return FileStreamParser(std::move(expected), max_file, total,
	                        FileStreamParser::Sink{
	                            [&c](size_t, const std::string& n, FileStatus s, uint64_t) {
		                            c.names.push_back(n);
		                            c.status.push_back(s);
		                            c.data.emplace_back();
		                            c.ended.push_back(false);
	                            },
	                            [&c](size_t i, std::string_view d) { c.data[i].append(d); },
	                            [&c](size_t i) { c.ended[i] = true; },
	                        });
}

std::string stream3() {
	return encode_files_begin() + encode_file_header("/a", FileStatus::ok, 5) + "hello" +
	       encode_file_header("/b", FileStatus::missing, 0) + encode_file_header("/c", FileStatus::ok, 0) +
	       encode_files_end();
}
}  // namespace

TEST(FileStream, WholeAndByteByByte) {
	for (size_t step : {size_t(1), size_t(3), size_t(1000)}) {
		Collected c;
		auto p = collector(c, {"/a", "/b", "/c"});
		std::string s = stream3();
		for (size_t i = 0; i < s.size(); i += step) p.feed(std::string_view(s).substr(i, step));
		EXPECT_TRUE(p.complete());
		p.finish();
		ASSERT_EQ(c.names.size(), 3u);
		EXPECT_EQ(c.data[0], "hello");
		EXPECT_EQ(c.status[1], FileStatus::missing);
		EXPECT_TRUE(c.ended[2]);
		EXPECT_EQ(c.data[2], "");
	}
}

TEST(FileStream, Hostile) {
	auto run = [](const std::string& s, std::vector<std::string> exp, const std::string& needle, uint64_t max = 1000,
	              uint64_t total = 10000) {
		Collected c;
		auto p = collector(c, std::move(exp), max, total);
		expect_error(
		    [&] {
			    p.feed(s);
			    p.finish();
		    },
		    needle);
	};
	std::string b = encode_files_begin();
	run("XXXX", {"/a"}, "bad magic");
	run(b + encode_file_header("/x", FileStatus::ok, 0), {"/a"}, "requested name");
	run(b + encode_file_header("/../etc/passwd", FileStatus::ok, 0), {"/a"}, "requested name");
	run(b + encode_file_header("/b", FileStatus::ok, 0), {"/a"}, "requested name");
	run(b + encode_file_header("/a", FileStatus::ok, 1001), {"/a"}, "over the limit");
	run(b + encode_file_header("/a", FileStatus::ok, 600) + std::string(600, 'x') + encode_file_header("/b", FileStatus::ok, 600),
	    {"/a", "/b"}, "total limit", 1000, 1000);
	run(b + encode_file_header("/a", FileStatus::missing, 5), {"/a"}, "data with status");
	run(b + encode_files_end(), {"/a"}, "ended after 0 of 1");
	run(b + encode_file_header("/a", FileStatus::ok, 0) + encode_file_header("/a", FileStatus::ok, 0), {"/a"},
	    "more files than requested");
	run(b + encode_file_header("/a", FileStatus::ok, 0) + encode_files_end() + "x", {"/a"}, "after the end");
	run(b + encode_file_header("/a", FileStatus::ok, 10) + "short", {"/a"}, "ended early");
	std::string st = encode_file_header("/a", FileStatus::ok, 0);
	st[2 + 2] = 9;  // status byte
	run(b + st, {"/a"}, "unknown status");
	// too_large carries the real size, no data.
	Collected c;
	auto p = collector(c, {"/a"});
	p.feed(b + encode_file_header("/a", FileStatus::too_large, 1ull << 40) + encode_files_end());
	EXPECT_TRUE(p.complete());
	EXPECT_EQ(c.status[0], FileStatus::too_large);
}

TEST(ResultDigest, OrderInsideAStreamMattersNotAcrossStreams) {
	std::string key(32, 'k');
	ResultDigest a, b, c;
	a.add(5000, "hello ");
	a.add(5001, "err");
	a.add(5000, "world");
	b.add(5001, "err");
	b.add(5000, "hello world");
	c.add(5000, "hello world");
	c.add(5002, "err");  // same bytes on another port
	std::string ha = a.hmac_hex(key), hb = b.hmac_hex(key), hc = c.hmac_hex(key);
	EXPECT_EQ(ha, hb);
	EXPECT_NE(ha, hc);
	EXPECT_EQ(ha.size(), 64u);
	ResultDigest d;
	d.add(5000, "hello world");
	d.add(5001, "err");
	EXPECT_NE(d.hmac_hex(std::string(32, 'K')), ha);
	EXPECT_THROW(d.add(5003, "x"), Error);
	EXPECT_EQ(a.bytes(5000), 11u);
}

TEST(ResultDigest, HmacLine) {
	std::string h(64, 'a');
	EXPECT_EQ(parse_hmac_line(h + "\n"), h);
	EXPECT_EQ(parse_hmac_line(h), h);
	EXPECT_THROW(parse_hmac_line(h.substr(1)), Error);
	EXPECT_THROW(parse_hmac_line(std::string(64, 'A')), Error);
	EXPECT_THROW(parse_hmac_line(h + "\n\n"), Error);
	EXPECT_THROW(parse_hmac_line(""), Error);
}

TEST(OutputLimiter, CutsExactlyAndCounts) {
	OutputLimiter l;
	l.limit = 10;
	EXPECT_EQ(l.admit(4), 4u);
	EXPECT_EQ(l.admit(4), 4u);
	EXPECT_FALSE(l.truncated());
	EXPECT_EQ(l.admit(4), 2u);
	EXPECT_EQ(l.admit(100), 0u);
	EXPECT_TRUE(l.truncated());
	EXPECT_EQ(l.passed, 10u);
	EXPECT_EQ(l.total, 112u);
	OutputLimiter z;
	z.limit = 0;
	EXPECT_EQ(z.admit(5), 0u);
	EXPECT_TRUE(z.truncated());
	OutputLimiter e;
	e.limit = 5;
	EXPECT_EQ(e.admit(5), 5u);
	EXPECT_FALSE(e.truncated());
}

// ---- the virtio-fs root and mounts (bencher-vmtest) --------------------------

namespace {

RunConfig shared_sample() {
	RunConfig c = sample();
	c.root_virtiofs = "root";
	c.mounts = {{"m0", "/mnt/vmtest", true}, {"m1", "/home/u/src", false}};
	return c;
}

std::string mount_tlv(uint8_t flags, std::string_view tag, std::string_view path) {
	std::string v(1, static_cast<char>(flags));
	v += static_cast<char>(tag.size());
	v += tag;
	v += path;
	return tlv(12, v);
}

}  // namespace

TEST(RunConfig, SharesRoundTrip) {
	RunConfig c = shared_sample();
	RunConfig d = decode_config(encode_config(c));
	EXPECT_EQ(d.root_virtiofs, "root");
	EXPECT_EQ(d.mounts, c.mounts);
	// Without them the wire form is today's, byte for byte.
	RunConfig plain = sample();
	EXPECT_EQ(encode_config(plain).find(std::string("\x0b", 1) + std::string("\x04\0\0\0", 4)), std::string::npos);
	EXPECT_TRUE(decode_config(encode_config(plain)).mounts.empty());
	EXPECT_TRUE(decode_config(encode_config(plain)).root_virtiofs.empty());
}

TEST(RunConfig, SharesValidation) {
	auto bad = [](auto mutate, const std::string& needle) {
		RunConfig c = shared_sample();
		mutate(c);
		expect_error([&] { validate(c); }, needle);
	};
	bad([](RunConfig& c) { c.root_virtiofs = std::string(37, 't'); }, "root.virtiofs");
	bad([](RunConfig& c) { c.root_virtiofs = "has space"; }, "root.virtiofs");
	bad([](RunConfig& c) { c.root_virtiofs = std::string("a\0b", 3); }, "root.virtiofs");
	bad([](RunConfig& c) { c.root_virtiofs.clear(); }, "only inside a virtio-fs root");
	bad([](RunConfig& c) { c.mounts[0].tag = ""; }, "not a tag");
	bad([](RunConfig& c) { c.mounts[0].tag = "t\n"; }, "not a tag");
	bad([](RunConfig& c) { c.mounts[0].path = "rel"; }, "absolute");
	bad([](RunConfig& c) { c.mounts[0].path = "/"; }, "root directory");
	bad([](RunConfig& c) { c.mounts[0].path = "/a/../etc"; }, "'..'");
	bad([](RunConfig& c) { c.mounts[0].path = "/a/./b"; }, "'..'");
	bad([](RunConfig& c) { c.mounts[0].path = "/a//b"; }, "empty component");
	bad([](RunConfig& c) { c.mounts[0].path = "/a/"; }, "empty component");
	bad([](RunConfig& c) { c.mounts[1].path = c.mounts[0].path; }, "listed twice");
	bad([](RunConfig& c) { c.mounts[1].tag = c.mounts[0].tag; }, "used twice");
	bad([](RunConfig& c) { c.mounts[1].tag = "root"; }, "used twice");
	bad([](RunConfig& c) {
		c.mounts.clear();
		for (int i = 0; i < 17; i++) c.mounts.push_back({"t" + std::to_string(i), "/m" + std::to_string(i), false});
	}, "more than 16");
	RunConfig ok = shared_sample();
	ok.mounts[0].tag = std::string(36, 'x');
	validate(ok);
}

TEST(RunConfig, SharesHostileWire) {
	std::string base = tlv(1, "sh") + tlv(11, "root");
	EXPECT_EQ(decode_config(rewrap(base + mount_tlv(1, "m", "/x"))).mounts.at(0), (Mount{"m", "/x", true}));
	expect_error([&] { decode_config(rewrap(base + tlv(11, "root"))); }, "given twice");
	expect_error([&] { decode_config(rewrap(base + mount_tlv(2, "m", "/x"))); }, "unknown flags");
	expect_error([&] { decode_config(rewrap(base + mount_tlv(0x81, "m", "/x"))); }, "unknown flags");
	expect_error([&] { decode_config(rewrap(base + tlv(12, ""))); }, "truncated");
	expect_error([&] { decode_config(rewrap(base + tlv(12, std::string("\0", 1)))); }, "truncated");
	// A tag length pointing past the record.
	expect_error([&] { decode_config(rewrap(base + tlv(12, std::string("\0\x09m", 3)))); }, "truncated");
	expect_error([&] { decode_config(rewrap(base + mount_tlv(0, "", "/x"))); }, "not a tag");
	expect_error([&] { decode_config(rewrap(base + mount_tlv(0, "m", ""))); }, "absolute");
	expect_error([&] { decode_config(rewrap(base + mount_tlv(0, "m", "/../x"))); }, "'..'");
	expect_error([&] { decode_config(rewrap(base + mount_tlv(0, "m", std::string("/a\0b", 4)))); }, "NUL");
	expect_error([&] { decode_config(rewrap(tlv(1, "sh") + mount_tlv(0, "m", "/x"))); }, "only inside");
	expect_error([&] { decode_config(rewrap(tlv(1, "sh") + tlv(11, ""))); }, "root.virtiofs");
	std::string many;
	for (int i = 0; i < 40; i++) many += mount_tlv(0, "t" + std::to_string(i), "/m" + std::to_string(i));
	expect_error([&] { decode_config(rewrap(base + many)); }, "too many");
}
