#pragma once
// The protocol-buffer wire format, written and read by hand: ONNX files are protobuf messages,
// and the few messages agnostic exchanges (onnx.hpp) need only its four wire types, so a small
// encoder and a bounds-checked decoder replace a protobuf dependency.
//
// A message is a sequence of fields; each starts with a varint key (field_number << 3 | wire_type):
//   0 varint (int32/int64/enum/bool), 1 fixed 64-bit (double), 2 length-delimited (bytes, strings,
//   nested messages, packed repeated numbers), 5 fixed 32-bit (float).
// Groups (wire types 3 and 4) are obsolete and refused. The decoder never reads past its buffer
// and names the byte offset (from the start of the file) of anything it cannot read.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agnostic/core/error.hpp"

namespace agnostic::io::protobuf {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

// Builds one message; nested messages are encoded separately and added as bytes.
class Writer {
 public:
  void varint_field(int field, std::uint64_t value) {
    key(field, WireType::varint);
    varint(value);
  }
  // int64 fields holding negative numbers are written as their two's complement (10 bytes).
  void int_field(int field, std::int64_t value) { varint_field(field, static_cast<std::uint64_t>(value)); }
  void float_field(int field, float value) {
    key(field, WireType::fixed32);
    fixed32(value);
  }
  void bytes_field(int field, std::string_view bytes) {
    key(field, WireType::length_delimited);
    varint(bytes.size());
    out_.append(bytes.data(), bytes.size());
  }
  void message_field(int field, const Writer& message) { bytes_field(field, message.bytes()); }
  // Packed repeated numbers: one length-delimited field holding the values back to back.
  void packed_floats(int field, const std::vector<float>& values) {
    Writer body;
    for (float v : values) body.fixed32(v);
    bytes_field(field, body.bytes());
  }
  void packed_ints(int field, const std::vector<std::int64_t>& values) {
    Writer body;
    for (auto v : values) body.varint(static_cast<std::uint64_t>(v));
    bytes_field(field, body.bytes());
  }

  const std::string& bytes() const { return out_; }

 private:
  void key(int field, WireType type) {
    varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(type));
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void fixed32(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, 4);
    for (int b = 0; b < 4; ++b) out_.push_back(static_cast<char>((bits >> (8 * b)) & 0xff));
  }

  std::string out_;
};

// One decoded field. For length-delimited fields `bytes` views the payload (inside the buffer
// the reader was given) and `offset` is where the payload starts in the file.
struct Field {
  int number = 0;
  WireType type = WireType::varint;
  std::uint64_t value = 0;  // varint, fixed32 and fixed64 bits
  std::string_view bytes;
  std::size_t offset = 0;  // of the field's key, from the start of the file

  std::int64_t as_int() const { return static_cast<std::int64_t>(value); }
  float as_float() const {
    const auto bits = static_cast<std::uint32_t>(value);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  double as_double() const {
    double d;
    std::memcpy(&d, &value, 8);
    return d;
  }
};

// Walks the fields of one message. `base` is the file offset of data[0], for messages.
class Reader {
 public:
  Reader(std::string_view data, std::size_t base, std::string source)
      : data_(data), base_(base), source_(std::move(source)) {}

  bool done() const { return pos_ >= data_.size(); }

  Field next() {
    Field f;
    f.offset = base_ + pos_;
    const std::uint64_t key = varint("a field key");
    const std::uint64_t wire = key & 7;
    const std::uint64_t number = key >> 3;
    if (number == 0 || number > 536870911)
      fail(source_, ": byte ", f.offset, ": field number ", number,
           " is outside protobuf's range 1..2^29-1 (not a protobuf file, or a damaged one)");
    f.number = static_cast<int>(number);
    switch (wire) {
      case 0:
        f.type = WireType::varint;
        f.value = varint("a varint value");
        break;
      case 1:
        f.type = WireType::fixed64;
        f.value = fixed(8);
        break;
      case 2: {
        f.type = WireType::length_delimited;
        const std::uint64_t length = varint("a length");
        if (length > data_.size() - pos_)
          fail(source_, ": byte ", f.offset, ": field ", f.number, " claims ", length, " bytes but only ",
               data_.size() - pos_, " remain in its message (truncated file?)");
        f.bytes = data_.substr(pos_, static_cast<std::size_t>(length));
        pos_ += static_cast<std::size_t>(length);
        break;
      }
      case 5:
        f.type = WireType::fixed32;
        f.value = fixed(4);
        break;
      default:
        fail(source_, ": byte ", f.offset, ": field ", f.number, " has wire type ", wire,
             ", which is not one of protobuf's 0, 1, 2, 5 (groups are not supported; damaged file?)");
    }
    return f;
  }

  // A nested message's reader: its payload, with file offsets kept.
  Reader nested(const Field& f) const {
    return Reader(f.bytes, base_ + static_cast<std::size_t>(f.bytes.data() - data_.data()), source_);
  }
  std::size_t offset_of(const Field& f) const {
    return base_ + static_cast<std::size_t>(f.bytes.data() - data_.data());
  }
  const std::string& source() const { return source_; }

  // Reads a varint from the current position (also used on packed payloads).
  std::uint64_t varint(const char* what) {
    std::uint64_t v = 0;
    const std::size_t start = pos_;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size())
        fail(source_, ": byte ", base_ + start, ": ", what, " runs past the end of its message (truncated?)");
      const auto byte = static_cast<unsigned char>(data_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    fail(source_, ": byte ", base_ + start, ": ", what, " is longer than the 10 bytes a varint may have");
  }

 private:
  std::uint64_t fixed(int bytes) {
    if (data_.size() - pos_ < static_cast<std::size_t>(bytes))
      fail(source_, ": byte ", base_ + pos_, ": a ", 8 * bytes,
           "-bit number runs past the end of its message (truncated?)");
    std::uint64_t v = 0;
    for (int b = 0; b < bytes; ++b)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + static_cast<std::size_t>(b)]))
           << (8 * b);
    pos_ += static_cast<std::size_t>(bytes);
    return v;
  }

  std::string_view data_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;
  std::string source_;
};

// Repeated numeric fields come packed (one length-delimited field) or one value per field; these
// append either form to `out`.
inline void append_ints(const Reader& parent, const Field& f, std::vector<std::int64_t>& out,
                        const char* what) {
  if (f.type == WireType::varint) {
    out.push_back(f.as_int());
    return;
  }
  require(f.type == WireType::length_delimited, parent.source(), ": byte ", f.offset, ": ", what,
          " must be varints (packed or not)");
  Reader packed = parent.nested(f);
  while (!packed.done()) out.push_back(static_cast<std::int64_t>(packed.varint(what)));
}

inline void append_floats(const Reader& parent, const Field& f, std::vector<float>& out, const char* what) {
  if (f.type == WireType::fixed32) {
    out.push_back(f.as_float());
    return;
  }
  require(f.type == WireType::length_delimited && f.bytes.size() % 4 == 0, parent.source(), ": byte ",
          f.offset, ": ", what, " must be 32-bit floats (packed: a multiple of 4 bytes)");
  for (std::size_t k = 0; k < f.bytes.size(); k += 4) {
    std::uint32_t bits = 0;
    for (std::size_t b = 0; b < 4; ++b)
      bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(f.bytes[k + b])) << (8 * b);
    float v;
    std::memcpy(&v, &bits, 4);
    out.push_back(v);
  }
}

inline void append_doubles(const Reader& parent, const Field& f, std::vector<double>& out, const char* what) {
  if (f.type == WireType::fixed64) {
    out.push_back(f.as_double());
    return;
  }
  require(f.type == WireType::length_delimited && f.bytes.size() % 8 == 0, parent.source(), ": byte ",
          f.offset, ": ", what, " must be 64-bit doubles (packed: a multiple of 8 bytes)");
  for (std::size_t k = 0; k < f.bytes.size(); k += 8) {
    std::uint64_t bits = 0;
    for (std::size_t b = 0; b < 8; ++b)
      bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(f.bytes[k + b])) << (8 * b);
    double v;
    std::memcpy(&v, &bits, 8);
    out.push_back(v);
  }
}

}  // namespace agnostic::io::protobuf
