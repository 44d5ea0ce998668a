// libFuzzer target: the .npy reader (io/npy.hpp): header, dtype, shape, and the data behind them.
#include "agnostic/io/npy.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  agnostic::fuzz::expect_result_or_error(
      [&] { agnostic::io::parse_npy(agnostic::fuzz::bytes_of(data, size), "fuzz.npy"); });
  return 0;
}
