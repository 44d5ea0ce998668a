#pragma once
// One entry point for data files: the reader is chosen by the file name's extension.
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/csv.hpp"
#include "agnostic/io/hdf5.hpp"  // empty without AGNOSTIC_HDF5
#include "agnostic/io/npy.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

// A table held in memory that read_table returns in place of a file of the same name, on the
// thread that lent it and while the lease lives: the Python module's agnostic.train(config, data=...)
// hands its columns to a run this way, so that every method reads them as it reads data.files.
class LentTable {
 public:
  LentTable(std::string name, Table table) : name_(std::move(name)) {
    require(find(name_) == nullptr, "a table named '", name_, "' is already lent on this thread");
    table.set_source(name_);
    lent().push_back({name_, std::move(table)});
  }
  ~LentTable() {
    auto& all = lent();
    for (auto it = all.begin(); it != all.end(); ++it)
      if (it->first == name_) {
        all.erase(it);
        break;
      }
  }
  LentTable(const LentTable&) = delete;
  LentTable& operator=(const LentTable&) = delete;

  // The table lent under `name` on this thread, or nullptr.
  static const Table* find(const std::string& name) {
    for (const auto& [n, t] : lent())
      if (n == name) return &t;
    return nullptr;
  }

 private:
  static std::vector<std::pair<std::string, Table>>& lent() {
    thread_local std::vector<std::pair<std::string, Table>> tables;
    return tables;
  }
  std::string name_;
};

// A table lent (LentTable) under the name `path` is returned as it is. Otherwise .csv and .txt are
// read as CSV (with `csv`), .tsv as CSV with a tab delimiter, .npy as NumPy, .h5 and .hdf5 as HDF5
// (io/hdf5.hpp; in a build with AGNOSTIC_HDF5).
inline Table read_table(const std::string& path, CsvOptions csv = {}) {
  if (const Table* lent = LentTable::find(path)) return *lent;
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
  if (extension == "h5" || extension == "hdf5") {
#ifdef AGNOSTIC_HDF5
    return read_hdf5(path);
#else
    fail("file '", path, "': HDF5 files are read by a build with AGNOSTIC_HDF5 (cmake -DAGNOSTIC_HDF5=ON, ",
         "Debian's libhdf5-dev); or write the columns as .npy or .csv");
#endif
  }
  fail("file '", path, "': cannot tell its format from the extension '", extension,
       "'; expected .csv, .txt, .tsv (tab separated) or .npy");
}

// Reads the files one after the other and stacks their rows; every file must have the same
// columns (numeric and text) in the same order. The stacked table is named "a.csv + b.csv" but
// its errors (Table::locate) name the file and line each row came from.
inline Table read_tables(const std::vector<std::string>& files, CsvOptions csv = {}) {
  require(!files.empty(), "no data files given");
  Table first = read_table(files.front(), csv);
  if (files.size() == 1) return first;
  std::vector<std::vector<double>> numeric;
  std::vector<std::vector<std::string>> text;
  std::vector<long> lines;
  std::vector<Index> first_rows;
  for (const auto& name : first.column_names()) {
    const auto c = first.column(name);
    numeric.emplace_back(c.begin(), c.end());
  }
  for (const auto& name : first.text_column_names()) text.push_back(first.text_column(name));
  auto append_lines = [&](const Table& t) {
    first_rows.push_back(static_cast<Index>(lines.size()));
    for (Index r = 0; r < t.n_rows(); ++r) lines.push_back(t.row_line(r));
  };
  append_lines(first);
  for (std::size_t f = 1; f < files.size(); ++f) {
    const Table next = read_table(files[f], csv);
    require(
        next.column_names() == first.column_names() && next.text_column_names() == first.text_column_names(),
        "data file '", files[f], "' has the columns ", next.describe_columns(), " but '", files.front(),
        "' has ", first.describe_columns(), "; every data file must have the same columns");
    for (std::size_t k = 0; k < numeric.size(); ++k) {
      const auto c = next.column(first.column_names()[k]);
      numeric[k].insert(numeric[k].end(), c.begin(), c.end());
    }
    for (std::size_t k = 0; k < text.size(); ++k) {
      const auto& c = next.text_column(first.text_column_names()[k]);
      text[k].insert(text[k].end(), c.begin(), c.end());
    }
    append_lines(next);
  }
  std::string source;
  for (const auto& f : files) source += (source.empty() ? "" : " + ") + f;
  Table out(source);
  for (std::size_t k = 0; k < numeric.size(); ++k)
    out.add_column(first.column_names()[k], std::move(numeric[k]));
  for (std::size_t k = 0; k < text.size(); ++k)
    out.add_text_column(first.text_column_names()[k], std::move(text[k]));
  if (out.n_columns() > 0) {
    out.set_row_lines(std::move(lines));  // 0 where a file has no lines (.npy)
    out.set_parts(files, std::move(first_rows));
  }
  return out;
}

}  // namespace agnostic::io
