// json.cc: bounded parsing and the strict typed reader.
#include "common/json.hh"

#include <fcntl.h>

#include <cmath>

#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::json {

Value Value::object() { return Value(json_object()); }
Value Value::array() { return Value(json_array()); }
Value Value::string(std::string_view s) { return Value(json_stringn(s.data(), s.size())); }
Value Value::integer(int64_t i) { return Value(json_integer(i)); }
Value Value::real(double d) { return Value(std::isfinite(d) ? json_real(d) : json_null()); }
Value Value::boolean(bool b) { return Value(json_boolean(b)); }
Value Value::null() { return Value(json_null()); }

Value& Value::set(const char* key, Value v) {
	if (v.get() == nullptr) v = null();  // json_stringn refuses invalid UTF-8
	if (json_object_set(v_, key, v.get()) < 0) fail(strprintf("json: cannot set key %s", key));
	return *this;
}

Value& Value::append(Value v) {
	if (v.get() == nullptr) v = null();
	if (json_array_append(v_, v.get()) < 0) fail("json: cannot append");
	return *this;
}

const char* type_name(const json_t* v) {
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

namespace {

// Nesting depth of the text, found before jansson recurses into it, so a
// hostile document cannot run the parser deep.
int text_depth(std::string_view text) {
	int depth = 0, max = 0;
	bool in_string = false, escaped = false;
	for (char c : text) {
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{') {
			if (++depth > max) max = depth;
		} else if (c == ']' || c == '}')
			--depth;
	}
	return max;
}

}  // namespace

Value parse(std::string_view text, const std::string& source, const Limits& limits) {
	if (text.size() > limits.max_bytes)
		fail(strprintf("%s: JSON larger than %zu bytes", source.c_str(), limits.max_bytes));
	if (text_depth(text) > limits.max_depth)
		fail(strprintf("%s: JSON nested deeper than %d levels", source.c_str(), limits.max_depth));
	json_error_t err;
	json_t* v = json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &err);
	if (v == nullptr)
		fail(strprintf("%s: line %d column %d: %s", source.c_str(), err.line, err.column, err.text));
	return Value::steal(v);
}

Value load_fd(int fd, const std::string& source, const Limits& limits) {
	std::string text = read_all(fd, limits.max_bytes, source);
	return parse(text, source, limits);
}

Value load_file(const std::string& path, const Limits& limits) {
	UniqueFd fd = open_file(path, O_RDONLY);
	return load_fd(fd.get(), path, limits);
}

std::string dump(const Value& v, bool pretty) {
	// 15 significant digits (DBL_DIG): a figure rounded to whole microseconds
	// prints as 2421.75, not as jansson's default 17 digits, 2421.7497990000002.
	size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
	char* s = json_dumps(v.get(), flags | JSON_ENCODE_ANY);
	if (s == nullptr) fail("json: cannot serialise");
	std::string out(s);
	free(s);
	return out;
}

void save_file(const std::string& path, const Value& v, bool pretty) {
	AtomicFile f(path);
	std::string text = dump(v, pretty) + "\n";
	write_all(f.fd(), text, "write " + f.temp_path());
	f.commit();
}

Object root_object(const Value& v, const std::string& source) { return Object(v, source, true); }

// ---- Object ----

Object::Object(const Value& v, std::string path, bool root)
    : v_(v), path_(std::move(path)), prefix_(path_ + (root ? ": " : ".")) {
	if (!json_is_object(v_.get()))
		fail(strprintf("%s: expected an object, got %s", path_.c_str(),
			       v_.get() ? type_name(v_.get()) : "nothing"));
}

bool Object::has(const char* key) const { return json_object_get(v_.get(), key) != nullptr; }

json_t* Object::get(const char* key, bool required) {
	seen_.insert(key);
	json_t* v = json_object_get(v_.get(), key);
	if (v == nullptr && required) fail(field(key) + ": missing");
	return v;
}

void Object::wrong_type(const char* key, const char* want, json_t* got) const {
	fail(field(key) + ": expected " + want + ", got " + type_name(got));
}

std::optional<std::string> Object::opt_str(const char* key) {
	json_t* v = get(key, false);
	if (v == nullptr) return std::nullopt;
	if (!json_is_string(v)) wrong_type(key, "a string", v);
	return std::string(json_string_value(v), json_string_length(v));
}

std::string Object::str(const char* key) {
	get(key, true);
	return *opt_str(key);
}

std::optional<int64_t> Object::opt_integer(const char* key, int64_t min, int64_t max) {
	json_t* v = get(key, false);
	if (v == nullptr) return std::nullopt;
	if (!json_is_integer(v)) wrong_type(key, "an integer", v);
	int64_t i = json_integer_value(v);
	if (i < min || i > max)
		fail(strprintf("%s: %lld out of range [%lld, %lld]", field(key).c_str(), static_cast<long long>(i),
			       static_cast<long long>(min), static_cast<long long>(max)));
	return i;
}

int64_t Object::integer(const char* key, int64_t min, int64_t max) {
	get(key, true);
	return *opt_integer(key, min, max);
}

std::optional<double> Object::opt_number(const char* key) {
	json_t* v = get(key, false);
	if (v == nullptr) return std::nullopt;
	if (!json_is_number(v)) wrong_type(key, "a number", v);
	return json_number_value(v);
}

double Object::number(const char* key) {
	get(key, true);
	return *opt_number(key);
}

std::optional<bool> Object::opt_boolean(const char* key) {
	json_t* v = get(key, false);
	if (v == nullptr) return std::nullopt;
	if (!json_is_boolean(v)) wrong_type(key, "a boolean", v);
	return json_is_true(v);
}

bool Object::boolean(const char* key) {
	get(key, true);
	return *opt_boolean(key);
}

std::optional<Object> Object::opt_object(const char* key) {
	json_t* v = get(key, false);
	if (v == nullptr) return std::nullopt;
	if (!json_is_object(v)) wrong_type(key, "an object", v);
	return Object(Value::borrow(v), field(key));
}

Object Object::object(const char* key) {
	get(key, true);
	return *opt_object(key);
}

std::optional<Array> Object::opt_array(const char* key) {
	json_t* v = get(key, false);
	if (v == nullptr) return std::nullopt;
	if (!json_is_array(v)) wrong_type(key, "an array", v);
	return Array(Value::borrow(v), field(key));
}

Array Object::array(const char* key) {
	get(key, true);
	return *opt_array(key);
}

std::optional<std::vector<std::string>> Object::opt_strings(const char* key) {
	auto a = opt_array(key);
	if (!a) return std::nullopt;
	std::vector<std::string> out;
	out.reserve(a->size());
	for (size_t i = 0; i < a->size(); i++) out.push_back(a->str_at(i));
	return out;
}

std::vector<std::string> Object::strings(const char* key) {
	get(key, true);
	return *opt_strings(key);
}

std::map<std::string, std::string> Object::string_map(const char* key) {
	Object o = object(key);
	std::map<std::string, std::string> out;
	const char* k;
	json_t* v;
	json_object_foreach(o.v_.get(), k, v) {
		if (!json_is_string(v)) o.wrong_type(k, "a string", v);
		out.emplace(k, std::string(json_string_value(v), json_string_length(v)));
	}
	return out;
}

Value Object::value(const char* key) { return Value::borrow(get(key, true)); }

void Object::finish() const {
	const char* k;
	json_t* v;
	json_object_foreach(v_.get(), k, v) {
		if (seen_.count(k) == 0) fail(field(k) + ": unknown key");
	}
}

// ---- Array ----

Array::Array(const Value& v, std::string path) : v_(v), path_(std::move(path)) {
	if (!json_is_array(v_.get()))
		fail(strprintf("%s: expected an array, got %s", path_.c_str(),
			       v_.get() ? type_name(v_.get()) : "nothing"));
}

std::string Array::path_at(size_t i) const { return strprintf("%s[%zu]", path_.c_str(), i); }

Object Array::object_at(size_t i) const { return Object(at(i), path_at(i)); }

std::string Array::str_at(size_t i) const {
	json_t* v = json_array_get(v_.get(), i);
	if (!json_is_string(v)) fail(path_at(i) + ": expected a string, got " + type_name(v));
	return std::string(json_string_value(v), json_string_length(v));
}

int64_t Array::integer_at(size_t i, int64_t min, int64_t max) const {
	json_t* v = json_array_get(v_.get(), i);
	if (!json_is_integer(v)) fail(path_at(i) + ": expected an integer, got " + type_name(v));
	int64_t n = json_integer_value(v);
	if (n < min || n > max)
		fail(strprintf("%s: %lld out of range [%lld, %lld]", path_at(i).c_str(), static_cast<long long>(n),
			       static_cast<long long>(min), static_cast<long long>(max)));
	return n;
}

}  // namespace bencher::json
