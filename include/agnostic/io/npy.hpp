#pragma once
// NumPy .npy files in (and, for float32/float64 matrices, out).
//
// The format (numpy.lib.format, NEP 1): the 6 bytes "\x93NUMPY", one byte each for the major and
// minor version, the header length (2-byte little-endian in version 1.0, 4-byte in 2.0 and 3.0),
// then the header: a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)},
// space-padded and ending in '\n', latin-1 in 1.0/2.0 and UTF-8 in 3.0. The raw data follow.
//
// Read here: dtypes float32, float64, int32, int64 and bool in either byte order; C or Fortran
// order; 1-D arrays (one column) and 2-D arrays (rows are events); 1-D structured arrays whose
// fields are such scalars give one named column per field. Everything becomes double (int64 values
// beyond 2^53 round to the nearest double). Any other file is refused with an Error naming the
// file and the byte offset of the problem.
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

// One scalar field of a record (a plain array has a single unnamed field).
struct NpyField {
  std::string name;
  char kind = 'f';  // 'f' float, 'i' signed integer, 'b' bool, 'V' padding (skipped)
  std::size_t size = 8;
  bool big_endian = false;
  std::size_t offset = 0;  // byte offset inside one record
};

struct NpyHeader {
  int major = 1, minor = 0;
  std::size_t data_offset = 0;
  std::vector<std::size_t> shape;
  bool fortran_order = false;
  bool structured = false;
  std::vector<NpyField> fields;
  std::size_t item_size = 0;
  std::string descr;  // as written in the file, for messages
};

namespace npy_detail {

inline constexpr const char* kSupported =
    "supported dtypes: float32 ('<f4'/'>f4'), float64 ('<f8'/'>f8'), int32 ('<i4'/'>i4'), int64 "
    "('<i8'/'>i8'), "
    "bool ('|b1'), and 1-D structured arrays whose fields are among these";

// A value of the Python literal subset that .npy headers use.
struct PyValue {
  enum Kind { kString, kInt, kBool, kNone, kList, kTuple, kDict } kind = kNone;
  std::string text;
  long long number = 0;
  bool flag = false;
  std::vector<std::string> keys;  // dict keys, parallel to items
  std::vector<PyValue> items;     // list/tuple elements or dict values
  std::size_t offset = 0;         // byte offset in the file where the value starts
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::size_t file_offset, const std::string& source)
      : text_(text), base_(file_offset), source_(source) {}

  PyValue parse_all() {
    PyValue v = value();
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the header dictionary");
    return v;
  }

  [[noreturn]] void error(const std::string& what) const {
    fail("file '", source_, "', byte ", base_ + pos_, " (in the .npy header): ", what,
         "; header text: ", text_);
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
  }

  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c, const char* what) {
    if (!accept(c)) error(std::string("expected ") + what);
  }

  PyValue value() {
    skip_space();
    if (pos_ >= text_.size()) error("header ends where a value was expected");
    PyValue v;
    v.offset = base_ + pos_;
    const char c = text_[pos_];
    if (c == '{') {
      v.kind = PyValue::kDict;
      ++pos_;
      while (!accept('}')) {
        PyValue key = value();
        if (key.kind != PyValue::kString) error("expected a quoted key in the header dictionary");
        expect(':', "':' after a dictionary key");
        v.keys.push_back(key.text);
        v.items.push_back(value());
        if (!accept(',')) {
          expect('}', "',' or '}' in the header dictionary");
          break;
        }
      }
    } else if (c == '[' || c == '(') {
      v.kind = c == '[' ? PyValue::kList : PyValue::kTuple;
      const char close = c == '[' ? ']' : ')';
      ++pos_;
      while (!accept(close)) {
        v.items.push_back(value());
        if (!accept(',')) {
          expect(close, close == ']' ? "',' or ']'" : "',' or ')'");
          break;
        }
      }
    } else if (c == '\'' || c == '"') {
      v.kind = PyValue::kString;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) error("a quoted string in the header never closes");
        const char d = text_[pos_++];
        if (d == c) break;
        if (d == '\\' && pos_ < text_.size()) {
          v.text.push_back(text_[pos_++]);
          continue;
        }
        v.text.push_back(d);
      }
    } else if ((c >= '0' && c <= '9') || c == '-') {
      v.kind = PyValue::kInt;
      const std::size_t begin = pos_;
      if (c == '-') ++pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      const std::string digits(text_.substr(begin, pos_ - begin));
      if (digits == "-") error("expected digits after '-'");
      errno = 0;
      v.number = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno == ERANGE) error("integer " + digits + " is too large");
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long literal
    } else if (text_.substr(pos_, 4) == "True") {
      v.kind = PyValue::kBool;
      v.flag = true;
      pos_ += 4;
    } else if (text_.substr(pos_, 5) == "False") {
      v.kind = PyValue::kBool;
      pos_ += 5;
    } else if (text_.substr(pos_, 4) == "None") {
      pos_ += 4;
    } else {
      error(std::string("unexpected character '") + c + "'");
    }
    return v;
  }

  std::string_view text_;
  std::size_t base_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

[[noreturn]] inline void npy_fail(const std::string& source, std::size_t offset, const std::string& what) {
  fail("file '", source, "', byte ", offset, ": ", what);
}

inline NpyField parse_scalar_type(const std::string& descr, const std::string& source, std::size_t offset,
                                  bool allow_padding) {
  NpyField f;
  const auto unsupported = [&] {
    npy_fail(source, offset, "unsupported dtype '" + descr + "'; " + kSupported);
  };
  if (descr.size() < 3) unsupported();
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') unsupported();
  f.kind = descr[1];
  const std::string digits = descr.substr(2);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6) unsupported();
  f.size = static_cast<std::size_t>(std::stoul(digits));
  f.big_endian = order == '>' || (order == '=' && std::endian::native == std::endian::big);
  if (f.size > 1 && order == '|' && f.kind != 'V') unsupported();  // multi-byte numbers need a byte order
  const bool ok = (f.kind == 'f' && (f.size == 4 || f.size == 8)) ||
                  (f.kind == 'i' && (f.size == 4 || f.size == 8)) || (f.kind == 'b' && f.size == 1) ||
                  (allow_padding && f.kind == 'V' && f.size > 0);
  if (!ok) unsupported();
  return f;
}

inline std::string shape_text(const std::vector<std::size_t>& shape) {
  std::ostringstream out;
  out << '(';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) out << ',';
  out << ')';
  return out.str();
}

template <class Int>
Int load_little(const unsigned char* p, int bytes) {
  Int v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = static_cast<Int>((v << 8) | p[i]);
  return v;
}

// Reads one scalar of field `f` at `p` (unaligned, in the file's byte order) as a double.
inline double load_scalar(const unsigned char* p, const NpyField& f) {
  unsigned char bytes[8];
  const bool swap = f.big_endian != (std::endian::native == std::endian::big);
  for (std::size_t i = 0; i < f.size; ++i) bytes[i] = swap ? p[f.size - 1 - i] : p[i];
  if (f.kind == 'b') return bytes[0] != 0 ? 1.0 : 0.0;
  if (f.kind == 'f' && f.size == 8) return std::bit_cast<double>(bytes);
  if (f.kind == 'f') {
    float x;
    std::memcpy(&x, bytes, 4);
    return static_cast<double>(x);
  }
  if (f.size == 8) {
    std::int64_t x;
    std::memcpy(&x, bytes, 8);
    return static_cast<double>(x);
  }
  std::int32_t x;
  std::memcpy(&x, bytes, 4);
  return static_cast<double>(x);
}

}  // namespace npy_detail

// Parses and checks the header of the .npy bytes `file` (from `source`, for messages).
inline NpyHeader parse_npy_header(std::string_view file, const std::string& source) {
  using npy_detail::npy_fail;
  NpyHeader h;
  if (file.size() < 6 || file.substr(0, 6) != std::string_view("\x93NUMPY", 6))
    npy_fail(source, 0,
             file.empty()
                 ? "the file is empty; expected a .npy file starting with the magic string \\x93NUMPY"
                 : "bad magic string; expected a .npy file starting with the 6 bytes \\x93NUMPY");
  if (file.size() < 8)
    npy_fail(source, 6, "the file ends inside the format version; expected 2 version bytes");
  h.major = static_cast<unsigned char>(file[6]);
  h.minor = static_cast<unsigned char>(file[7]);
  if (!((h.major == 1 || h.major == 2 || h.major == 3) && h.minor == 0))
    npy_fail(source, 6,
             "unsupported .npy format version " + std::to_string(h.major) + "." + std::to_string(h.minor) +
                 "; supported versions: 1.0, 2.0, 3.0");
  const int length_bytes = h.major == 1 ? 2 : 4;
  if (file.size() < 8 + static_cast<std::size_t>(length_bytes))
    npy_fail(source, 8,
             "the file ends inside the header length; expected " + std::to_string(length_bytes) + " bytes");
  const auto* bytes = reinterpret_cast<const unsigned char*>(file.data());
  const std::size_t header_length = npy_detail::load_little<std::uint32_t>(bytes + 8, length_bytes);
  const std::size_t header_begin = 8 + static_cast<std::size_t>(length_bytes);
  if (file.size() - header_begin < header_length)
    npy_fail(source, header_begin,
             "header truncated: the header length field (byte 8) promises " + std::to_string(header_length) +
                 " header bytes, but only " + std::to_string(file.size() - header_begin) + " follow");
  h.data_offset = header_begin + header_length;

  const std::string_view text = file.substr(header_begin, header_length);
  npy_detail::HeaderParser parser(text, header_begin, source);
  const npy_detail::PyValue dict = parser.parse_all();
  if (dict.kind != npy_detail::PyValue::kDict)
    npy_fail(source, header_begin, "the header is not a Python dictionary");
  const npy_detail::PyValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (std::size_t i = 0; i < dict.keys.size(); ++i) {
    const auto& k = dict.keys[i];
    if (k == "descr")
      descr = &dict.items[i];
    else if (k == "fortran_order")
      fortran = &dict.items[i];
    else if (k == "shape")
      shape = &dict.items[i];
    else
      npy_fail(source, dict.items[i].offset,
               "unexpected header key '" + k + "'; expected only 'descr', 'fortran_order' and 'shape'");
  }
  if (!descr || !fortran || !shape)
    npy_fail(source, header_begin,
             std::string("the header lacks the key '") +
                 (!descr     ? "descr"
                  : !fortran ? "fortran_order"
                             : "shape") +
                 "'; expected 'descr', 'fortran_order' and 'shape'");

  if (fortran->kind != npy_detail::PyValue::kBool)
    npy_fail(source, fortran->offset, "'fortran_order' must be True or False");
  h.fortran_order = fortran->flag;

  if (shape->kind != npy_detail::PyValue::kTuple)
    npy_fail(source, shape->offset, "'shape' must be a tuple of integers");
  for (const auto& d : shape->items) {
    if (d.kind != npy_detail::PyValue::kInt || d.number < 0)
      npy_fail(source, d.offset, "'shape' must hold non-negative integers");
    h.shape.push_back(static_cast<std::size_t>(d.number));
  }
  if (h.shape.empty() || h.shape.size() > 2)
    npy_fail(source, shape->offset,
             "array of shape " + npy_detail::shape_text(h.shape) + " has " + std::to_string(h.shape.size()) +
                 " dimensions; expected a 1-D or 2-D array");

  // Columns each become a named vector: refuse absurd widths (a (0, 10^15) array is 0 bytes).
  if (h.shape.size() == 2 && h.shape[1] > 1000000)
    npy_fail(source, shape->offset,
             "array of shape " + npy_detail::shape_text(h.shape) +
                 " has more than 10^6 columns; expected events as "
                 "rows and features as columns");

  if (descr->kind == npy_detail::PyValue::kString) {
    h.descr = descr->text;
    NpyField f = npy_detail::parse_scalar_type(descr->text, source, descr->offset, false);
    h.item_size = f.size;
    h.fields.push_back(std::move(f));
  } else if (descr->kind == npy_detail::PyValue::kList) {
    h.structured = true;
    if (h.shape.size() != 1)
      npy_fail(source, shape->offset,
               "structured array of shape " + npy_detail::shape_text(h.shape) +
                   "; expected a 1-D structured array");
    for (const auto& entry : descr->items) {
      if (entry.kind != npy_detail::PyValue::kTuple || entry.items.size() < 2 ||
          entry.items[0].kind != npy_detail::PyValue::kString)
        npy_fail(source, entry.offset, "a structured dtype entry must be a tuple ('name', 'type')");
      if (entry.items.size() > 2)
        npy_fail(source, entry.offset,
                 "field '" + entry.items[0].text + "' is a sub-array; only scalar fields are supported (" +
                     npy_detail::kSupported + ")");
      if (entry.items[1].kind != npy_detail::PyValue::kString)
        npy_fail(source, entry.items[1].offset,
                 "field '" + entry.items[0].text + "' has a nested dtype; " + npy_detail::kSupported);
      const bool padding = entry.items[0].text.empty();
      NpyField f = npy_detail::parse_scalar_type(entry.items[1].text, source, entry.items[1].offset, padding);
      f.name = entry.items[0].text;
      f.offset = h.item_size;
      h.item_size += f.size;
      if (!h.descr.empty()) h.descr += ", ";
      h.descr += f.name + ":" + entry.items[1].text;
      if (f.kind == 'V') continue;
      for (const auto& other : h.fields)
        if (other.name == f.name) npy_fail(source, entry.offset, "field name '" + f.name + "' appears twice");
      h.fields.push_back(std::move(f));
    }
    if (h.fields.empty()) npy_fail(source, descr->offset, "the structured dtype has no fields");
  } else {
    npy_fail(source, descr->offset,
             std::string("'descr' must be a dtype string or a list of fields; ") + npy_detail::kSupported);
  }

  // The data must fill the rest of the file exactly.
  std::size_t count = 1;
  for (std::size_t d : h.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d / h.item_size)
      npy_fail(source, shape->offset, "shape " + npy_detail::shape_text(h.shape) + " is too large");
    count *= d;
  }
  const std::size_t expected = count * h.item_size;
  const std::size_t present = file.size() - h.data_offset;
  const std::string promise = "the header promises shape " + npy_detail::shape_text(h.shape) + " of " +
                              std::to_string(h.item_size) + "-byte items = " + std::to_string(expected) +
                              " data bytes from byte " + std::to_string(h.data_offset);
  if (present < expected)
    npy_fail(source, file.size(),
             "data truncated: " + promise + ", but the file ends after " + std::to_string(present) +
                 " (the file is cut short, or the header's shape is wrong)");
  if (present > expected)
    npy_fail(source, h.data_offset + expected,
             "data size mismatch: " + promise + ", but " + std::to_string(present) +
                 " bytes follow; the header's shape does not match the data");
  return h;
}

// A .npy file's values as a matrix (rows are events) and a name per column: field names for a
// structured array, "0", "1", ... otherwise.
struct NpyContents {
  NpyHeader header;
  MatrixD values;
  std::vector<std::string> names;
};

inline NpyContents parse_npy(std::string_view file, const std::string& source) {
  NpyContents out;
  out.header = parse_npy_header(file, source);
  const NpyHeader& h = out.header;
  const auto* data = reinterpret_cast<const unsigned char*>(file.data()) + h.data_offset;
  const Index rows = static_cast<Index>(h.shape[0]);
  if (h.structured) {
    const Index cols = static_cast<Index>(h.fields.size());
    out.values.resize(rows, cols);
    for (Index j = 0; j < cols; ++j) {
      const NpyField& f = h.fields[static_cast<std::size_t>(j)];
      out.names.push_back(f.name);
      for (Index i = 0; i < rows; ++i)
        out.values(i, j) =
            npy_detail::load_scalar(data + static_cast<std::size_t>(i) * h.item_size + f.offset, f);
    }
    return out;
  }
  const Index cols = h.shape.size() == 2 ? static_cast<Index>(h.shape[1]) : 1;
  out.values.resize(rows, cols);
  const NpyField& f = h.fields[0];
  // C order: element (i, j) is item i * cols + j; Fortran order: j * rows + i (like our storage).
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) {
      const Index item = h.fortran_order ? j * rows + i : i * cols + j;
      out.values(i, j) = npy_detail::load_scalar(data + static_cast<std::size_t>(item) * f.size, f);
    }
  for (Index j = 0; j < cols; ++j) out.names.push_back(std::to_string(j));
  return out;
}

inline std::string read_binary_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open file '", path, "' for reading: ", std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

inline NpyContents load_npy(const std::string& path) {
  return parse_npy(read_binary_file(path), path);
}

inline MatrixD read_npy_matrix(const std::string& path) {
  return load_npy(path).values;
}

// The file as a Table. `names` (optional) renames the columns of a plain array; its length must
// match the number of columns.
inline Table read_npy(const std::string& path, const std::vector<std::string>& names = {}) {
  NpyContents contents = load_npy(path);
  if (!names.empty()) {
    require(static_cast<Index>(names.size()) == contents.values.cols(), "file '", path, "' has ",
            contents.values.cols(), " columns but ", names.size(), " column names were given");
    contents.names = names;
  }
  Table table(path);
  for (Index j = 0; j < contents.values.cols(); ++j) {
    const auto* begin = contents.values.col(j).data();
    table.add_column(contents.names[static_cast<std::size_t>(j)],
                     std::vector<double>(begin, begin + contents.values.rows()));
  }
  return table;
}

// Writes a float32 or float64 matrix (rows x cols, C order, format 1.0, little endian).
// `one_dimensional` writes a single column as shape (n,) instead of (n, 1).
template <class T>
void write_npy(const std::string& path, const Matrix<T>& values, bool one_dimensional = false) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "write_npy writes float32 or float64");
  require(!one_dimensional || values.cols() == 1, "write_npy: a 1-D array needs exactly one column, got ",
          values.cols());
  std::string header = std::string("{'descr': '<f") + (sizeof(T) == 8 ? "8" : "4") +
                       "', 'fortran_order': False, 'shape': (" + std::to_string(values.rows()) +
                       (one_dimensional ? "," : ", " + std::to_string(values.cols())) + "), }";
  // Pad with spaces so that the data start on a 64-byte boundary; the header ends in '\n'.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  require(header.size() <= 65535, "write_npy: header too long");

  write_file_atomically_with(path, [&](std::ostream& out) {
    // Magic, version 1.0, then the header length as a 2-byte little-endian number.
    std::string prefix("\x93NUMPY\x01\x00", 8);
    prefix.push_back(static_cast<char>(header.size() & 0xff));
    prefix.push_back(static_cast<char>(header.size() >> 8));
    out.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::vector<unsigned char> row(static_cast<std::size_t>(values.cols()) * sizeof(T));
    for (Index i = 0; i < values.rows(); ++i) {
      for (Index j = 0; j < values.cols(); ++j) {
        unsigned char* p = row.data() + static_cast<std::size_t>(j) * sizeof(T);
        const T x = values(i, j);
        std::memcpy(p, &x, sizeof(T));
        if constexpr (std::endian::native == std::endian::big)
          for (std::size_t k = 0; k < sizeof(T) / 2; ++k) std::swap(p[k], p[sizeof(T) - 1 - k]);
      }
      out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size()));
    }
  });
}

template <class T>
void write_npy(const std::string& path, const Vector<T>& values) {
  write_npy(path, Matrix<T>(values), true);
}

}  // namespace agnostic::io
