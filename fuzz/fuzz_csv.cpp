// libFuzzer target: the CSV reader (io/csv.hpp), with and without inferred text columns.
#include "agnostic/io/csv.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = agnostic::fuzz::bytes_of(data, size);
  agnostic::fuzz::expect_result_or_error([&] { agnostic::io::parse_csv(text, "fuzz.csv"); });
  agnostic::io::CsvOptions strict;
  strict.infer_text_columns = false;
  strict.delimiter = ';';
  agnostic::fuzz::expect_result_or_error([&] { agnostic::io::parse_csv(text, "fuzz.csv", strict); });
  return 0;
}
