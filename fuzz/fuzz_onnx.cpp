// libFuzzer target: the protobuf decoder and the ONNX importer (io/onnx_proto.hpp,
// io/onnx_import.hpp), on any bytes.
#include "agnostic/io/onnx_import.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  agnostic::fuzz::expect_result_or_error(
      [&] { agnostic::io::import_onnx_bytes(agnostic::fuzz::bytes_of(data, size), "fuzz.onnx"); });
  return 0;
}
