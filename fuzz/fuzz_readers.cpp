// libFuzzer target for every reader of untrusted files, one binary (so CI compiles one sanitized
// translation unit, not five): the environment variable AGNOSTIC_FUZZ_READER chooses the reader.
//   csv         io/csv.hpp, with inferred text columns and strict with ';'
//   npy         io/npy.hpp: header, dtype, shape and the data behind them
//   model_json  the model reader's JSON parser (io/json_reader.hpp) on any bytes, io/model_file.hpp
//               (float and double, including the test-vector check on load) and the lwtnn importer
//               io/lwtnn.hpp, on any JSON text
//   workspace   the pyhf workspace reader stats/workspace.hpp, on any JSON text
//   onnx        the protobuf decoder and the ONNX importer io/onnx_proto.hpp, io/onnx_import.hpp
//   hdf5        io/hdf5.hpp on an in-memory file image (only in a build with AGNOSTIC_HDF5; not in
//               ctest: it finds bugs of libhdf5 1.10 itself on damaged files, docs/data.md)
// A reader given arbitrary bytes must return or throw agnostic::Error; anything else (a crash, a
// sanitizer report, another exception, a hang) is what libFuzzer reports, with the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

#include "agnostic/core/error.hpp"
#include "agnostic/io/csv.hpp"
#include "agnostic/io/hdf5.hpp"  // empty without AGNOSTIC_HDF5
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/npy.hpp"
#include "agnostic/io/onnx_import.hpp"
#include "agnostic/stats/workspace.hpp"

namespace {

// Runs `read` and swallows the user-facing errors only.
template <class Read>
void expect_result_or_error(Read&& read) {
  try {
    read();
  } catch (const agnostic::Error&) {
  }
}

void read_csv(std::string_view text) {
  expect_result_or_error([&] { agnostic::io::parse_csv(text, "fuzz.csv"); });
  agnostic::io::CsvOptions strict;
  strict.infer_text_columns = false;
  strict.delimiter = ';';
  expect_result_or_error([&] { agnostic::io::parse_csv(text, "fuzz.csv", strict); });
}

void read_npy(std::string_view bytes) {
  expect_result_or_error([&] { agnostic::io::parse_npy(bytes, "fuzz.npy"); });
}

void read_model_json(std::string_view text) {
  // The model reader's own JSON parser on the raw bytes, then the readers on a parsed document.
  expect_result_or_error([&] { agnostic::io::model_record_from_text<float>(text, "fuzz.json"); });
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return;  // not JSON: the JSON parser's own error
  expect_result_or_error([&] { agnostic::io::model_from_json<float>(j, "fuzz.json"); });
  expect_result_or_error([&] { agnostic::io::model_from_json<double>(j, "fuzz.json"); });
  expect_result_or_error([&] { agnostic::io::import_lwtnn(j, "fuzz.json"); });
}

void read_workspace(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return;
  expect_result_or_error([&] { agnostic::stats::parse_workspace(j, "fuzz.json"); });
}

void read_onnx(std::string_view bytes) {
  expect_result_or_error([&] { agnostic::io::import_onnx_bytes(bytes, "fuzz.onnx"); });
}

#ifdef AGNOSTIC_HDF5
void read_hdf5(std::string_view bytes) {
  expect_result_or_error([&] { agnostic::io::read_hdf5_bytes(bytes, "fuzz.h5"); });
}
#endif

struct Reader {
  const char* name;
  void (*read)(std::string_view);
};
constexpr Reader kReaders[] = {
    {"csv", read_csv},   {"npy", read_npy}, {"model_json", read_model_json}, {"workspace", read_workspace},
    {"onnx", read_onnx},
#ifdef AGNOSTIC_HDF5
    {"hdf5", read_hdf5},
#endif
};

void (*chosen)(std::string_view) = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("AGNOSTIC_FUZZ_READER");
  for (const auto& r : kReaders)
    if (name && std::strcmp(name, r.name) == 0) chosen = r.read;
  if (!chosen) {
    std::fprintf(stderr,
                 "fuzz_readers: set AGNOSTIC_FUZZ_READER to csv, npy, model_json, workspace, onnx or (with "
                 "AGNOSTIC_HDF5) hdf5 (got '%s')\n",
                 name ? name : "");
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chosen({reinterpret_cast<const char*>(data), size});
  return 0;
}
