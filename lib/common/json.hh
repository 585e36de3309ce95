// json.hh: jansson behind a small owning handle, bounded loading, and a typed
// reader that turns wrong or missing fields into one clear error naming the
// field ("vm.json: limits.memory_bytes: expected an integer, got a string").
// Every config and every piece of guest- or image-supplied JSON goes through
// here.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bencher::json {

struct Limits {
	size_t max_bytes = 16u << 20;  // text size
	int max_depth = 64;            // nesting of arrays/objects
};

// An owned reference to a json_t.
class Value {
public:
	Value() = default;
	static Value steal(json_t* v) { return Value(v); }
	static Value borrow(json_t* v) { return Value(json_incref(v)); }
	Value(const Value& o) : v_(json_incref(o.v_)) {}
	Value& operator=(const Value& o) {
		if (this != &o) {
			json_decref(v_);
			v_ = json_incref(o.v_);
		}
		return *this;
	}
	Value(Value&& o) noexcept : v_(o.v_) { o.v_ = nullptr; }
	Value& operator=(Value&& o) noexcept {
		if (this != &o) {
			json_decref(v_);
			v_ = o.v_;
			o.v_ = nullptr;
		}
		return *this;
	}
	~Value() { json_decref(v_); }

	json_t* get() const { return v_; }
	explicit operator bool() const { return v_ != nullptr; }

	// Builders, for writing results and configs.
	static Value object();
	static Value array();
	static Value string(std::string_view s);
	static Value integer(int64_t i);
	static Value real(double d);
	static Value boolean(bool b);
	static Value null();
	Value& set(const char* key, Value v);  // object
	Value& append(Value v);                // array

private:
	explicit Value(json_t* v) : v_(v) {}
	json_t* v_ = nullptr;
};

// Parses text; `source` names it in errors ("vm.json: line 3 column 5: ...").
Value parse(std::string_view text, const std::string& source, const Limits& limits = {});
Value load_file(const std::string& path, const Limits& limits = {});
Value load_fd(int fd, const std::string& source, const Limits& limits = {});

// Serialises compactly (one line) or indented; keys keep insertion order.
std::string dump(const Value& v, bool pretty = false);
// Writes atomically (temp file + rename), with a trailing newline.
void save_file(const std::string& path, const Value& v, bool pretty = true);

const char* type_name(const json_t* v);

class Array;

// A strict, typed view of one JSON object. Every accessor records the key as
// known; finish() then rejects any key nobody asked for, so a typo in a
// config is an error rather than a silently ignored setting.
class Object {
public:
	// `path` names the object in errors: a file name for a document's root
	// object (fields read "file: key"), or a field path for a nested one
	// (fields read "file: a.b").
	Object(const Value& v, std::string path, bool root = false);

	const std::string& path() const { return path_; }
	bool has(const char* key) const;

	std::string str(const char* key);
	std::optional<std::string> opt_str(const char* key);
	int64_t integer(const char* key, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
	std::optional<int64_t> opt_integer(const char* key, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
	double number(const char* key);
	std::optional<double> opt_number(const char* key);
	bool boolean(const char* key);
	std::optional<bool> opt_boolean(const char* key);
	Object object(const char* key);
	std::optional<Object> opt_object(const char* key);
	Array array(const char* key);
	std::optional<Array> opt_array(const char* key);
	std::vector<std::string> strings(const char* key);
	std::optional<std::vector<std::string>> opt_strings(const char* key);
	// An object whose values are all strings ({"K": "V", ...}).
	std::map<std::string, std::string> string_map(const char* key);
	Value value(const char* key);  // any type, required

	// Throws for the first key that no accessor asked for.
	void finish() const;
	// Marks a key as known without reading it.
	void ignore(const char* key) { seen_.insert(key); }

private:
	json_t* get(const char* key, bool required);
	std::string field(const char* key) const { return prefix_ + key; }
	[[noreturn]] void wrong_type(const char* key, const char* want, json_t* got) const;

	Value v_;
	std::string path_;
	std::string prefix_;
	std::set<std::string> seen_;
};

class Array {
public:
	Array(const Value& v, std::string path);
	size_t size() const { return json_array_size(v_.get()); }
	const std::string& path() const { return path_; }
	std::string path_at(size_t i) const;
	Value at(size_t i) const { return Value::borrow(json_array_get(v_.get(), i)); }
	Object object_at(size_t i) const;
	std::string str_at(size_t i) const;
	int64_t integer_at(size_t i, int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;

private:
	Value v_;
	std::string path_;
};

// Reads a top-level document as an object; `source` prefixes field paths.
Object root_object(const Value& v, const std::string& source);

}  // namespace bencher::json
