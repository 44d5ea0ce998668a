// libFuzzer target: the model-file reader (io/model_file.hpp, including the test-vector check it
// runs on load) and the lwtnn importer (io/lwtnn.hpp), on any JSON text.
#include <nlohmann/json.hpp>

#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(agnostic::fuzz::bytes_of(data, size), nullptr, false);
  if (j.is_discarded()) return 0;  // not JSON: the JSON parser's own error
  agnostic::fuzz::expect_result_or_error([&] { agnostic::io::model_from_json<float>(j, "fuzz.json"); });
  agnostic::fuzz::expect_result_or_error([&] { agnostic::io::model_from_json<double>(j, "fuzz.json"); });
  agnostic::fuzz::expect_result_or_error([&] { agnostic::io::import_lwtnn(j, "fuzz.json"); });
  return 0;
}
