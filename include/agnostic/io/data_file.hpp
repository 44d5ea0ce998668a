#pragma once
// One entry point for data files: the reader is chosen by the file name's extension.
#include <algorithm>
#include <cctype>
#include <string>

#include "agnostic/core/error.hpp"
#include "agnostic/io/csv.hpp"
#include "agnostic/io/npy.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

// .csv and .txt are read as CSV (with `csv`), .tsv as CSV with a tab delimiter, .npy as NumPy.
inline Table read_table(const std::string& path, CsvOptions csv = {}) {
  const auto dot = path.find_last_of('.');
  std::string extension = dot == std::string::npos ? std::string() : path.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == "csv" || extension == "txt") return read_csv(path, csv);
  if (extension == "tsv") {
    csv.delimiter = '\t';
    return read_csv(path, csv);
  }
  if (extension == "npy") return read_npy(path);
  fail("file '", path, "': cannot tell its format from the extension '", extension,
       "'; expected .csv, .txt, .tsv (tab separated) or .npy");
}

}  // namespace agnostic::io
