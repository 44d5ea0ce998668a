#pragma once
// Data fingerprints: a 64-bit FNV-1a hash (Fowler, Noll and Vo's hash, variant 1a) of the data a
// training run reads. The trainer stores it in the checkpoint and a resume on other data is refused
// (train/checkpoint.hpp), which matters most for columns given in memory: their name in data.files,
// and so the config the resume compares, is the same whatever they hold.
//
// FNV-1a because it sees every byte, is defined byte by byte (no library, no seed, the same on every
// machine of one byte order) and is a few lines. It tells data apart; it is no protection against a
// collision made on purpose. Written as "fnv1a64:" and 16 hex digits.
//
// What is hashed, for each entry of data.files in order:
//   - a table lent in memory (LentTable: the Python module's agnostic.train(data=...)): "table", then
//     for every numeric column its name, its type ("float64" or "float32"), its length and its values'
//     bytes in row order (the bytes as stored, whatever the stride), then for every text column its
//     name, "text", its length and each value;
//   - a file: "file" and its bytes (the path itself is in the config, which resume compares anyway).
// Every name and value enters as its length in decimal, ':' and its bytes, so fields cannot run into
// each other.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

class Fnv1a64 {
 public:
  void add_bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t h = hash_;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kPrime;
    hash_ = h;
  }
  // A field: its length in decimal, ':' and its bytes.
  void add_field(std::string_view text) {
    const std::string length = std::to_string(text.size()) + ":";
    add_bytes(length.data(), length.size());
    add_bytes(text.data(), text.size());
  }
  void add_number(std::uint64_t n) { add_field(std::to_string(n)); }

  std::uint64_t value() const { return hash_; }
  // "fnv1a64:" and 16 lower-case hex digits.
  std::string text() const {
    char digits[17];
    std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(hash_));
    return std::string("fnv1a64:") + digits;
  }

 private:
  static constexpr std::uint64_t kOffsetBasis = 14695981039346656037ULL;
  static constexpr std::uint64_t kPrime = 1099511628211ULL;
  std::uint64_t hash_ = kOffsetBasis;
};

// Adds a table's columns to `hash` as the header says.
inline void add_table(Fnv1a64& hash, const Table& table) {
  for (const auto& name : table.column_names()) {
    const ColumnView column = table.column(name);
    hash.add_field(name);
    hash.add_field(column.type_name());
    hash.add_number(column.size());
    const std::size_t size = column.element_size();
    if (column.stride() == static_cast<std::ptrdiff_t>(size)) {
      hash.add_bytes(column.data(), column.size() * size);
    } else {
      for (std::size_t i = 0; i < column.size(); ++i) hash.add_bytes(column.bytes(i), size);
    }
  }
  for (const auto& name : table.text_column_names()) {
    const auto& column = table.text_column(name);
    hash.add_field(name);
    hash.add_field("text");
    hash.add_number(column.size());
    for (const auto& value : column) hash.add_field(value);
  }
}

// Adds the bytes of file `path` to `hash`.
inline void add_file(Fnv1a64& hash, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "data file '", path, "': cannot be opened to compute the data fingerprint");
  std::vector<char> buffer(std::size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash.add_bytes(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  require(in.eof(), "data file '", path, "': reading failed while computing the data fingerprint");
}

// The fingerprint of the data in `files` (a config's data.files, lent tables included).
inline std::string data_fingerprint(const std::vector<std::string>& files) {
  Fnv1a64 hash;
  for (const auto& file : files) {
    if (const Table* lent = LentTable::find(file)) {
      hash.add_field("table");
      add_table(hash, *lent);
    } else {
      hash.add_field("file");
      add_file(hash, file);
    }
  }
  return hash.text();
}

}  // namespace agnostic::io
