#pragma once
// HDF5 data files (.h5, .hdf5) as a Table, read by io::read_table like CSV and .npy (data_file.hpp).
// Optional: only with AGNOSTIC_HDF5 defined (CMake -DAGNOSTIC_HDF5=ON, which links libhdf5); without
// it this header is empty and nothing includes <hdf5.h>. Two layouts are read, the ones h5py writes:
//   - columns: every object at the file's top level is a 1-D dataset of the same length
//     (f["pt"] = array in h5py), one column each, in the order of their names;
//   - one compound dataset: the top level holds a single 1-D dataset whose fields are the columns (a
//     numpy structured array written by h5py), in field order.
// Numbers of any integer or floating type become numeric columns (converted to double by the
// library); fixed- and variable-length strings become text columns (labels such as "s"/"b"). Anything
// else is refused with the file and the dataset (or field) named: groups, datasets of other ranks,
// enum (h5py's bool), array, reference or opaque types, columns of different lengths.
#ifdef AGNOSTIC_HDF5
#include <hdf5.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

namespace hdf5_detail {

// One HDF5 identifier, closed by its close function when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 calls with the library's error printing switched off for their duration (H5E_BEGIN_TRY
// restores the caller's setting afterwards): the reader reports through agnostic::Error instead.
template <class Call>
auto quietly(Call&& call) {
  decltype(call()) result{};
  H5E_BEGIN_TRY {
    result = call();
  }
  H5E_END_TRY;
  return result;
}

inline std::string where(const std::string& source, const std::string& dataset) {
  return "HDF5 file '" + source + "', dataset '" + dataset + "'";
}

// The names of the top-level objects, in name order.
inline std::vector<std::string> top_level_names(hid_t file, const std::string& source) {
  H5G_info_t info;
  require(quietly([&] { return H5Gget_info(file, &info); }) >= 0, "HDF5 file '", source,
          "': cannot read its top-level group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = quietly([&] {
      return H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    });
    require(size >= 0, "HDF5 file '", source, "': cannot read the name of top-level object ", i);
    std::vector<char> buffer(static_cast<std::size_t>(size) + 1);
    require(quietly([&] {
              return H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, buffer.data(),
                                        buffer.size(), H5P_DEFAULT);
            }) >= 0,
            "HDF5 file '", source, "': cannot read the name of top-level object ", i);
    names.emplace_back(buffer.data());
  }
  return names;
}

// What a dataset or field of type `type` becomes: numbers, text, or refused (with why).
enum class Kind { number, text, refused };

inline Kind kind_of(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
    case H5T_FLOAT:
      return Kind::number;
    case H5T_STRING:
      return Kind::text;
    default:
      return Kind::refused;
  }
}

inline std::string type_name(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_ENUM:
      return "an enum (h5py writes bool so; store 0/1 integers instead)";
    case H5T_COMPOUND:
      return "a compound type";
    case H5T_ARRAY:
      return "an array type";
    case H5T_REFERENCE:
      return "a reference type";
    case H5T_OPAQUE:
      return "an opaque type";
    case H5T_BITFIELD:
      return "a bitfield type";
    case H5T_VLEN:
      return "a variable-length sequence type";
    default:
      return "a type that is neither numbers nor strings";
  }
}

// Reads `rows` values of `type` (a string type) from `dataset` with memory type `memory` into text.
// `member` (for a compound field) is the field's name, else empty.
inline std::vector<std::string> read_text(hid_t dataset, hid_t type, std::size_t rows,
                                          const std::string& member, const std::string& at) {
  const bool variable = H5Tis_variable_str(type) > 0;
  const std::size_t width = variable ? sizeof(char*) : H5Tget_size(type);
  Handle string_type(H5Tcopy(H5T_C_S1), H5Tclose);
  require(string_type.valid(), at, ": cannot make a string type");
  if (variable)
    H5Tset_size(string_type.get(), H5T_VARIABLE);
  else
    H5Tset_size(string_type.get(), width);
  H5Tset_cset(string_type.get(), H5Tget_cset(type));
  if (!variable) H5Tset_strpad(string_type.get(), H5Tget_strpad(type));  // h5py pads with NULs
  Handle memory(member.empty() ? H5Tcopy(string_type.get()) : H5Tcreate(H5T_COMPOUND, width), H5Tclose);
  require(memory.valid(), at, ": cannot make a memory type");
  if (!member.empty()) H5Tinsert(memory.get(), member.c_str(), 0, string_type.get());
  std::vector<char> buffer(rows * width + 1, '\0');
  const herr_t status =
      quietly([&] { return H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()); });
  std::vector<std::string> out;
  out.reserve(rows);
  for (std::size_t r = 0; r < rows && status >= 0; ++r) {
    const char* value = buffer.data() + r * width;
    if (variable) {
      const char* text = nullptr;
      std::memcpy(&text, value, sizeof text);
      out.emplace_back(text ? text : "");
    } else {
      std::size_t n = 0;
      while (n < width && value[n] != '\0') ++n;
      out.emplace_back(value, n);
    }
  }
  if (variable) {  // the strings HDF5 allocated, also those of a read that failed part-way
    Handle space(H5Dget_space(dataset), H5Sclose);
    quietly([&] { return H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, buffer.data()); });
  }
  require(status >= 0, at, ": cannot read its strings");
  return out;
}

// Reads `rows` numbers of `dataset` (or of its compound field `member`) as doubles; HDF5 converts.
inline std::vector<double> read_numbers(hid_t dataset, std::size_t rows, const std::string& member,
                                        const std::string& at) {
  Handle memory(member.empty() ? H5Tcopy(H5T_NATIVE_DOUBLE) : H5Tcreate(H5T_COMPOUND, sizeof(double)),
                H5Tclose);
  require(memory.valid(), at, ": cannot make a memory type");
  if (!member.empty()) H5Tinsert(memory.get(), member.c_str(), 0, H5T_NATIVE_DOUBLE);
  std::vector<double> out(rows);
  require(
      quietly([&] { return H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()); }) >= 0,
      at, ": cannot read its values as numbers");
  return out;
}

// The length of a 1-D dataset; other ranks are refused.
inline std::size_t rows_of(hid_t dataset, const std::string& at) {
  Handle space(H5Dget_space(dataset), H5Sclose);
  require(space.valid(), at, ": cannot read its shape");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  require(rank >= 0, at, ": cannot read its shape");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (rank != 1) {
    std::string shape;
    for (hsize_t d : dims) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
    fail(at, " has ", rank, " dimensions", rank > 0 ? " (shape " + shape + ")" : std::string(),
         "; expected a 1-D dataset per column, or one 1-D compound dataset whose fields are the columns");
  }
  return static_cast<std::size_t>(dims[0]);
}

// Refuses a dataset whose declared size the file cannot hold, before memory is reserved for it: its
// stored bytes must lie inside the file and, uncompressed, cover rows x item size (compressed: at most
// 1100 times less, above deflate's largest ratio). A damaged or crafted header stops here.
inline void require_stored(hid_t file, hid_t dataset, hid_t type, std::size_t rows, const std::string& at) {
  const double declared = static_cast<double>(rows) * static_cast<double>(H5Tget_size(type));
  if (declared == 0) return;
  const double stored = static_cast<double>(H5Dget_storage_size(dataset));
  hsize_t file_size = 0;
  require(quietly([&] { return H5Fget_filesize(file, &file_size); }) >= 0, at,
          ": cannot read the file's size");
  Handle creation(H5Dget_create_plist(dataset), H5Pclose);
  require(creation.valid(), at, ": cannot read how it is stored");
  const int filters = H5Pget_nfilters(creation.get());
  const double ratio = filters > 0 ? 1100.0 : 1.0;
  require(stored > 0 && stored <= static_cast<double>(file_size) && declared <= stored * ratio, at,
          " declares ", rows, " rows (", declared, " bytes) but the file stores ", stored,
          " bytes of it (file size ", file_size, "); the file is truncated or damaged");
}

}  // namespace hdf5_detail

// Reads an HDF5 file opened as `file` (named `source` in messages) as a Table.
inline Table read_hdf5_file(hid_t file, const std::string& source) {
  using namespace hdf5_detail;
  const std::vector<std::string> names = top_level_names(file, source);
  require(!names.empty(), "HDF5 file '", source,
          "' holds no datasets; expected 1-D datasets (one per column) or one compound dataset");
  Table table(source);
  std::size_t rows = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string& name = names[k];
    const std::string at = where(source, name);
    Handle object(quietly([&] { return H5Oopen(file, name.c_str(), H5P_DEFAULT); }), H5Oclose);
    require(object.valid(), at, ": cannot open it");
    require(
        H5Iget_type(object.get()) == H5I_DATASET, "HDF5 file '", source, "': '", name,
        "' is a group (or a named type); only 1-D datasets at the top level (one per column) or one compound "
        "dataset are read");
    Handle dataset(quietly([&] { return H5Dopen2(file, name.c_str(), H5P_DEFAULT); }), H5Dclose);
    require(dataset.valid(), at, ": cannot open it");
    Handle type(H5Dget_type(dataset.get()), H5Tclose);
    require(type.valid(), at, ": cannot read its type");
    const std::size_t n = rows_of(dataset.get(), at);
    require_stored(file, dataset.get(), type.get(), n, at);
    if (H5Tget_class(type.get()) == H5T_COMPOUND) {
      require(names.size() == 1, at, " is a compound dataset beside ", names.size() - 1,
              " other object(s); a file holds either one compound dataset or 1-D datasets, one per column");
      const int members = H5Tget_nmembers(type.get());
      for (int m = 0; m < members; ++m) {
        char* raw = H5Tget_member_name(type.get(), static_cast<unsigned>(m));
        require(raw != nullptr, at, ": cannot read the name of field ", m);
        const std::string field(raw);
        H5free_memory(raw);
        const std::string field_at = at + ", field '" + field + "'";
        Handle field_type(H5Tget_member_type(type.get(), static_cast<unsigned>(m)), H5Tclose);
        require(field_type.valid(), field_at, ": cannot read its type");
        const Kind kind = kind_of(field_type.get());
        require(kind != Kind::refused, field_at, " is ", type_name(field_type.get()),
                "; a column holds numbers or strings");
        if (kind == Kind::number)
          table.add_column(field, read_numbers(dataset.get(), n, field, field_at));
        else
          table.add_text_column(field, read_text(dataset.get(), field_type.get(), n, field, field_at));
      }
      return table;
    }
    const Kind kind = kind_of(type.get());
    require(kind != Kind::refused, at, " is ", type_name(type.get()), "; a column holds numbers or strings");
    if (k == 0) rows = n;
    require(n == rows, at, " has ", n, " rows but dataset '", names.front(), "' has ", rows,
            "; every column must have the same length");
    if (kind == Kind::number)
      table.add_column(name, read_numbers(dataset.get(), n, "", at));
    else
      table.add_text_column(name, read_text(dataset.get(), type.get(), n, "", at));
  }
  return table;
}

// Reads the HDF5 file at `path`.
inline Table read_hdf5(const std::string& path) {
  using namespace hdf5_detail;
  const htri_t is_hdf5 = quietly([&] { return H5Fis_hdf5(path.c_str()); });
  require(is_hdf5 >= 0, "cannot open file '", path, "' for reading");
  require(is_hdf5 > 0, "file '", path, "' is not an HDF5 file (no HDF5 signature)");
  Handle file(quietly([&] { return H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT); }), H5Fclose);
  require(file.valid(), "cannot open file '", path, "' for reading as HDF5");
  return read_hdf5_file(file.get(), path);
}

// Reads an HDF5 file held in memory (`bytes`, as read from a file; `source` names it in messages):
// for the fuzzer and for data that never touched a disk.
inline Table read_hdf5_bytes(std::string_view bytes, const std::string& source) {
  using namespace hdf5_detail;
  require(!bytes.empty(), "HDF5 file '", source, "' is empty");
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  require(access.valid(), "HDF5 file '", source, "': cannot make a file access list");
  require(H5Pset_fapl_core(access.get(), 1 << 16, 0) >= 0, "HDF5 file '", source, "': no in-memory driver");
  std::vector<char> image(bytes.begin(), bytes.end());  // HDF5 may write into its copy
  require(H5Pset_file_image(access.get(), image.data(), image.size()) >= 0, "HDF5 file '", source,
          "': cannot hand over the bytes");
  Handle file(quietly([&] { return H5Fopen(source.c_str(), H5F_ACC_RDONLY, access.get()); }), H5Fclose);
  require(file.valid(), "HDF5 file '", source, "' is not a readable HDF5 file");
  return read_hdf5_file(file.get(), source);
}

}  // namespace agnostic::io
#endif  // AGNOSTIC_HDF5
