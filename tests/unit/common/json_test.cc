// Unit tests for lib/common/json: the typed reader and hostile documents.
#include "common/json.hh"

#include <gtest/gtest.h>

#include <string>

#include "common/error.hh"
#include "common/fd.hh"

using bencher::Error;
namespace json = bencher::json;

namespace {

std::string error_of(const std::function<void()>& fn) {
	try {
		fn();
	} catch (const Error& e) {
		return e.what();
	}
	return "(no error)";
}

}  // namespace

TEST(Json, TypedReader) {
	auto v = json::parse(R"({"id":"vm1","vcpus":4,"ratio":0.5,"on":true,
		"args":["a","b"],"env":{"K":"V"},"limits":{"memory_bytes":1024}})",
			     "cfg.json");
	json::Object o = json::root_object(v, "cfg.json");
	EXPECT_EQ(o.str("id"), "vm1");
	EXPECT_EQ(o.integer("vcpus", 1, 32), 4);
	EXPECT_DOUBLE_EQ(o.number("ratio"), 0.5);
	EXPECT_TRUE(o.boolean("on"));
	EXPECT_EQ(o.strings("args"), (std::vector<std::string>{"a", "b"}));
	EXPECT_EQ(o.string_map("env").at("K"), "V");
	json::Object limits = o.object("limits");
	EXPECT_EQ(limits.integer("memory_bytes"), 1024);
	limits.finish();
	EXPECT_FALSE(o.opt_str("missing").has_value());
	EXPECT_NO_THROW(o.finish());
}

TEST(Json, ErrorsNameTheField) {
	auto v = json::parse(R"({"id":5,"limits":{"memory_bytes":"1G"},"args":["a",3]})", "jail.json");
	json::Object o = json::root_object(v, "jail.json");
	EXPECT_EQ(error_of([&] { o.str("id"); }), "jail.json: id: expected a string, got an integer");
	EXPECT_EQ(error_of([&] { o.object("limits").integer("memory_bytes"); }),
		  "jail.json: limits.memory_bytes: expected an integer, got a string");
	EXPECT_EQ(error_of([&] { o.strings("args"); }), "jail.json: args[1]: expected a string, got an integer");
	EXPECT_EQ(error_of([&] { o.str("exec_path"); }), "jail.json: exec_path: missing");
}

TEST(Json, UnknownKeysRejected) {
	auto v = json::parse(R"({"id":"x","exec_pth":"/bin/true"})", "jail.json");
	json::Object o = json::root_object(v, "jail.json");
	o.str("id");
	EXPECT_EQ(error_of([&] { o.finish(); }), "jail.json: exec_pth: unknown key");
	o.ignore("exec_pth");
	EXPECT_NO_THROW(o.finish());
}

TEST(Json, RangeChecked) {
	auto v = json::parse(R"({"vcpus":64,"neg":-1})", "vm.json");
	json::Object o = json::root_object(v, "vm.json");
	EXPECT_EQ(error_of([&] { o.integer("vcpus", 1, 32); }), "vm.json: vcpus: 64 out of range [1, 32]");
	EXPECT_THROW(o.integer("neg", 0), Error);
}

TEST(Json, HostileDocuments) {
	// Syntax errors carry the position.
	EXPECT_EQ(error_of([] { json::parse("{\"a\":", "x.json"); }).rfind("x.json: line 1 column", 0), 0u);
	// Integers beyond 64 bits, reals beyond double.
	EXPECT_THROW(json::parse(R"({"n":123456789012345678901234567890})", "x"), Error);
	EXPECT_THROW(json::parse(R"({"n":1e999})", "x"), Error);
	// Duplicate keys, NUL inside strings, invalid UTF-8, trailing garbage.
	EXPECT_THROW(json::parse(R"({"a":1,"a":2})", "x"), Error);
	EXPECT_THROW(json::parse(std::string("{\"a\":\"x\\u0000y\"}"), "x"), Error);
	EXPECT_THROW(json::parse("{\"a\":\"\xff\xfe\"}", "x"), Error);
	EXPECT_THROW(json::parse("{} {}", "x"), Error);
	EXPECT_THROW(json::parse("", "x"), Error);
	// A top-level that is not an object, where one is needed.
	EXPECT_EQ(error_of([] { json::root_object(json::parse("[1]", "x"), "x"); }),
		  "x: expected an object, got an array");
}

TEST(Json, DeepNestingRejectedBeforeParsing) {
	std::string deep(100000, '[');
	deep += std::string(100000, ']');
	EXPECT_EQ(error_of([&] { json::parse(deep, "deep.json"); }), "deep.json: JSON nested deeper than 64 levels");
	// Brackets inside strings do not count.
	EXPECT_NO_THROW(json::parse("{\"a\":\"" + std::string(1000, '[') + "\"}", "x"));
	// Exactly at the limit is fine.
	std::string ok(64, '[');
	ok += std::string(64, ']');
	EXPECT_NO_THROW(json::parse(ok, "x"));
}

TEST(Json, SizeLimit) {
	json::Limits lim;
	lim.max_bytes = 16;
	EXPECT_EQ(error_of([&] { json::parse(R"({"a":"0123456789abcdef"})", "big.json", lim); }),
		  "big.json: JSON larger than 16 bytes");
}

TEST(Json, BuildDumpAndReload) {
	bencher::TempDir dir("json-test");
	json::Value v = json::Value::object();
	v.set("exit_code", json::Value::integer(42));
	v.set("name", json::Value::string("hello"));
	json::Value arr = json::Value::array();
	arr.append(json::Value::boolean(true));
	v.set("list", arr);
	EXPECT_EQ(json::dump(v), R"({"exit_code":42,"name":"hello","list":[true]})");
	std::string path = dir.path() + "/out.json";
	json::save_file(path, v);
	auto back = json::load_file(path);
	EXPECT_EQ(json::dump(back), json::dump(v));
	// Invalid UTF-8 from outside becomes null rather than a crash.
	json::Value w = json::Value::object();
	w.set("bad", json::Value::string("\xff"));
	EXPECT_EQ(json::dump(w), R"({"bad":null})");
}

TEST(Json, RealsPrintShort) {
	json::Value v = json::Value::array();
	v.append(json::Value::real(1.235));
	v.append(json::Value::real(123.5));
	EXPECT_EQ(json::dump(v), "[1.235,123.5]");
}

TEST(Json, LoadFileErrors) {
	EXPECT_EQ(error_of([] { json::load_file("/nonexistent/cfg.json"); }),
		  "open /nonexistent/cfg.json: No such file or directory");
}
