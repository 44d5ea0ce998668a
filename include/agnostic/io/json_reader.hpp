#pragma once
// A small JSON reader for model files: text in, a tree of JsonValue out, each value knowing the
// line and column where it starts. It exists for the trigger path: infer/ reads model files, and
// compiling nlohmann/json alone costs more than the trigger path's whole compile budget
// (docs/build-cost.md). Every model file is read with it (io/model_reader.hpp), so a model's
// checks and messages are one code; every other JSON file of agnostic is read with nlohmann/json.
//
// It reads RFC 8259 JSON and refuses, naming the line and column: comments, trailing commas, NaN
// and Infinity, a number too large for a double, text after the value, strings that are not UTF-8,
// control characters inside strings, nesting deeper than 512 levels, and an object that repeats a
// key (nlohmann/json would keep the last one silently). Numbers come out as nlohmann/json gives
// them, bit for bit: a token without fraction or exponent is an integer (converted to double where
// a double is asked for, so "-0" is +0.0), any other is the correctly rounded nearest double.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"

namespace agnostic::io {

class JsonValue {
 public:
  enum class Type : unsigned char { null, boolean, number, string, array, object };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_boolean() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  // A number written without fraction or exponent that fits a 64-bit signed integer.
  bool is_integer() const { return type_ == Type::number && is_integer_; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }
  // nlohmann/json's names, for messages: "null", "boolean", "number", "string", "array", "object".
  const char* type_name() const {
    constexpr const char* names[] = {"null", "boolean", "number", "string", "array", "object"};
    return names[static_cast<int>(type_)];
  }

  // The value; each requires the type (a caller checks the type first and words its own message).
  bool boolean() const { return checked(Type::boolean).boolean_; }
  double number() const { return checked(Type::number).number_; }
  std::int64_t integer() const {
    require(is_integer(), "JsonValue: ", dump(), " is not an integer");
    return integer_;
  }
  const std::string& string() const { return checked(Type::string).text_; }

  // Arrays: the elements; objects: the members, in the order of the text.
  std::size_t size() const { return children_.size(); }
  bool empty() const { return children_.empty(); }
  const JsonValue& operator[](std::size_t k) const {
    require(k < children_.size(), "JsonValue: index ", k, " outside the ", children_.size(), " elements");
    return children_[k];
  }
  const std::string& key(std::size_t k) const {
    require(is_object() && k < keys_.size(), "JsonValue: member ", k, " outside the object");
    return keys_[k];
  }
  // The member called `key`, or nullptr (also for a value that is not an object).
  const JsonValue* find(std::string_view key) const {
    for (std::size_t k = 0; k < keys_.size(); ++k)
      if (keys_[k] == key) return &children_[k];
    return nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  // The first member whose key `allowed` does not name, or nullptr: for "unknown key" messages.
  const std::string* first_key_not_in(std::initializer_list<std::string_view> allowed) const {
    for (const auto& k : keys_) {
      bool known = false;
      for (const auto a : allowed) known = known || k == a;
      if (!known) return &k;
    }
    return nullptr;
  }
  const JsonValue& operator[](std::string_view key) const {
    const JsonValue* v = find(key);
    require(v != nullptr, "JsonValue: no member '", key, "'");
    return *v;
  }

  // Where the value starts (1-based, columns count bytes), and its extent in the text.
  std::size_t line() const { return line_; }
  std::size_t column() const { return column_; }
  std::size_t text_begin() const { return begin_; }
  std::size_t text_end() const { return end_; }

  // Compact JSON, for messages; a number in the fewest digits that read back as the same double.
  std::string dump() const {
    std::string out;
    dump_to(out);
    return out;
  }

 private:
  friend class JsonParser;

  const JsonValue& checked(Type t) const {
    if (type_ != t) {
      JsonValue expected;
      expected.type_ = t;
      fail("JsonValue: expected a ", expected.type_name(), ", found ", type_name(), " ", dump());
    }
    return *this;
  }

  static void quote_to(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f') {
        out += '\\';
        out += c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : c == '\b' ? 'b' : 'f';
      } else if (static_cast<unsigned char>(c) < 0x20) {
        constexpr char hex[] = "0123456789abcdef";
        out += "\\u00";
        out += hex[(c >> 4) & 0xf];
        out += hex[c & 0xf];
      } else {
        out += c;
      }
    }
    out += '"';
  }

  void dump_to(std::string& out) const {
    switch (type_) {
      case Type::null:
        out += "null";
        return;
      case Type::boolean:
        out += boolean_ ? "true" : "false";
        return;
      case Type::number: {
        char digits[32];
        const auto end = is_integer_ ? std::to_chars(digits, digits + sizeof digits, integer_).ptr
                                     : std::to_chars(digits, digits + sizeof digits, number_).ptr;
        out.append(digits, end);
        return;
      }
      case Type::string:
        quote_to(out, text_);
        return;
      case Type::array:
      case Type::object:
        out += type_ == Type::array ? '[' : '{';
        for (std::size_t k = 0; k < children_.size(); ++k) {
          if (k > 0) out += ',';
          if (type_ == Type::object) {
            quote_to(out, keys_[k]);
            out += ':';
          }
          children_[k].dump_to(out);
        }
        out += type_ == Type::array ? ']' : '}';
        return;
    }
  }

  Type type_ = Type::null;
  bool boolean_ = false, is_integer_ = false;
  double number_ = 0.0;
  std::int64_t integer_ = 0;
  std::string text_;  // a string's value
  std::vector<std::string> keys_;
  std::vector<JsonValue> children_;
  std::size_t line_ = 1, column_ = 1, begin_ = 0, end_ = 0;
};

// The recursive-descent parser behind parse_json_text.
class JsonParser {
 public:
  JsonParser(std::string_view text, std::string_view what) : text_(text), what_(what) {}

  JsonValue parse_document() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a UTF-8 byte-order mark, as nlohmann/json allows
    skip_space();
    JsonValue v = parse_value(0);
    skip_space();
    if (pos_ < text_.size()) error("unexpected '", text_[pos_], "' after the end of the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;

  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    std::size_t line = 1, column = 1;
    for (std::size_t k = 0; k < pos_ && k < text_.size(); ++k) {
      if (text_[k] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    fail(what_, " is not valid JSON: line ", line, ", column ", column, ": ", parts...);
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
      ++pos_;
    }
  }

  bool at_end() const { return pos_ >= text_.size(); }

  void expect_literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      error("expected a value (", word[0] == 'n' ? "null" : "true or false", ")");
    pos_ += word.size();
  }

  JsonValue parse_value(int depth) {
    if (at_end()) error("unexpected end of the text; expected a value");
    JsonValue v;
    v.line_ = line_;
    v.column_ = pos_ - line_start_ + 1;
    v.begin_ = pos_;
    const char c = text_[pos_];
    if (c == '{' || c == '[') {
      if (depth >= kMaxDepth) error("nested deeper than ", kMaxDepth, " levels");
      parse_container(v, depth + 1);
    } else if (c == '"') {
      v.type_ = JsonValue::Type::string;
      v.text_ = parse_string();
    } else if (c == 't' || c == 'f') {
      v.type_ = JsonValue::Type::boolean;
      v.boolean_ = c == 't';
      expect_literal(c == 't' ? "true" : "false");
    } else if (c == 'n') {
      expect_literal("null");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      parse_number(v);
    } else {
      error("unexpected '", c, "'; expected a value (object, array, string, number, true, false or null)");
    }
    v.end_ = pos_;
    return v;
  }

  void parse_container(JsonValue& v, int depth) {
    const bool object = text_[pos_] == '{';
    const char close = object ? '}' : ']';
    v.type_ = object ? JsonValue::Type::object : JsonValue::Type::array;
    ++pos_;
    skip_space();
    if (!at_end() && text_[pos_] == close) {
      ++pos_;
      return;
    }
    while (true) {
      skip_space();
      if (object) {
        if (at_end() || text_[pos_] != '"')
          error(at_end() ? "unexpected end of the text" : "unexpected character",
                "; expected a key in double quotes");
        const std::size_t key_at = pos_;
        std::string key = parse_string();
        for (const auto& k : v.keys_)
          if (k == key) {
            pos_ = key_at;
            error("the key '", key, "' appears twice in this object");
          }
        v.keys_.push_back(std::move(key));
        skip_space();
        if (at_end() || text_[pos_] != ':') error("expected ':' after the key '", v.keys_.back(), "'");
        ++pos_;
        skip_space();
      }
      v.children_.push_back(parse_value(depth));
      skip_space();
      if (at_end()) error("unexpected end of the text; expected ',' or '", close, "'");
      if (text_[pos_] == ',') {
        ++pos_;
        skip_space();
        if (!at_end() && text_[pos_] == close) error("a trailing ',' before '", close, "'");
        continue;
      }
      if (text_[pos_] == close) {
        ++pos_;
        return;
      }
      error("unexpected '", text_[pos_], "'; expected ',' or '", close, "'");
    }
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::uint32_t parse_hex4() {
    std::uint32_t code = 0;
    for (int k = 0; k < 4; ++k, ++pos_) {
      if (at_end()) error("unexpected end of the text inside a \\u escape");
      const char h = text_[pos_];
      const int digit = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
      if (digit < 0) error("'", h, "' in a \\u escape; expected four hexadecimal digits");
      code = code * 16 + static_cast<std::uint32_t>(digit);
    }
    return code;
  }

  // The length of the UTF-8 sequence starting at pos_ (1 to 4), or 0 when it is not valid UTF-8.
  std::size_t utf8_length() const {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text_[pos_ + k]); };
    const unsigned char b0 = byte(0);
    std::size_t n = 0;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3;
      if (b0 == 0xE0) low = 0xA0;   // no overlong forms
      if (b0 == 0xED) high = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4;
      if (b0 == 0xF0) low = 0x90;
      if (b0 == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
      return 0;
    }
    if (pos_ + n > text_.size() || byte(1) < low || byte(1) > high) return 0;
    for (std::size_t k = 2; k < n; ++k)
      if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
    return n;
  }

  std::string parse_string() {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (at_end()) error("unexpected end of the text inside a string; a closing '\"' is missing");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        error("a control character (code ", static_cast<int>(c), ") inside a string; write it as an escape");
      if (c != '\\') {
        if (static_cast<unsigned char>(c) < 0x80) {
          out += c;
          ++pos_;
          continue;
        }
        const std::size_t n = utf8_length();
        if (n == 0) error("a byte that is not UTF-8 inside a string");
        out.append(text_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      ++pos_;
      if (at_end()) error("unexpected end of the text after '\\' in a string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t code = parse_hex4();
          if (code >= 0xDC00 && code <= 0xDFFF) error("a \\u escape of a low surrogate without its high one");
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") error("a \\u escape of a high surrogate without its low one");
            pos_ += 2;
            const std::uint32_t low = parse_hex4();
            if (low < 0xDC00 || low > 0xDFFF) error("a \\u escape of a high surrogate without its low one");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, code);
          break;
        }
        default:
          --pos_;
          error("the escape '\\", e, "' in a string; allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
      }
    }
  }

  void parse_number(JsonValue& v) {
    const std::size_t start = pos_;
    const auto digits = [&] {
      const std::size_t from = pos_;
      while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (text_[pos_] == '-') ++pos_;
    const std::size_t int_start = pos_;
    if (digits() == 0) error("a number needs a digit after '-'");
    if (text_[int_start] == '0' && pos_ - int_start > 1) {
      pos_ = int_start;
      error("a number may not start with 0 followed by digits");
    }
    const std::size_t int_end = pos_;
    std::size_t exponent_at = 0;  // where the exponent's sign or first digit is
    bool integer = true;
    if (!at_end() && text_[pos_] == '.') {
      ++pos_;
      integer = false;
      if (digits() == 0) error("a number needs a digit after '.'");
    }
    if (!at_end() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      integer = false;
      exponent_at = pos_;
      if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) error("a number needs a digit in its exponent");
    }
    v.type_ = JsonValue::Type::number;
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integer) {
      const auto [end, ec] = std::from_chars(first, last, v.integer_);
      if (ec == std::errc() && end == last) {
        v.is_integer_ = true;
        v.number_ = static_cast<double>(v.integer_);
        return;
      }
    }
    // Correctly rounded, as strtod rounds; an integer beyond 64 bits rounds as its conversion would.
    const auto [end, ec] = std::from_chars(first, last, v.number_);
    if (ec == std::errc() && end == last) return;
    // Out of range: below the smallest subnormal it is a signed zero (as strtod gives it), above
    // the largest double an error. The decimal exponent of the leading digit tells which.
    long exponent = 0;
    if (exponent_at != 0) {
      const char* e = text_.data() + exponent_at + (text_[exponent_at] == '+' ? 1 : 0);
      if (std::from_chars(e, last, exponent).ec != std::errc())
        exponent = text_[exponent_at] == '-' ? -100000 : 100000;
    }
    std::size_t k = int_start;
    while (k < pos_ && (text_[k] == '0' || text_[k] == '.')) ++k;
    const long leading = static_cast<long>(k <= int_end ? int_end - k : 0) -
                         static_cast<long>(k > int_end ? k - int_end - 1 : 0);
    if (exponent + leading < 0) {
      v.number_ = text_[start] == '-' ? -0.0 : 0.0;
      return;
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    pos_ = start;
    error("the number ", token, " is larger than the largest double");
  }

  std::string_view text_;
  std::string_view what_;
  std::size_t pos_ = 0, line_ = 1, line_start_ = 0;
};

// The JSON value of `text`; `what` starts every message ("model file 'tagger.json'"), which reads
// "<what> is not valid JSON: line L, column C: <reason>".
inline JsonValue parse_json_text(std::string_view text, std::string_view what) {
  return JsonParser(text, what).parse_document();
}

}  // namespace agnostic::io
