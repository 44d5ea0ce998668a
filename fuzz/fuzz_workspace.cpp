// libFuzzer target: the pyhf workspace reader (stats/workspace.hpp), on any JSON text.
#include <nlohmann/json.hpp>

#include "agnostic/stats/workspace.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(agnostic::fuzz::bytes_of(data, size), nullptr, false);
  if (j.is_discarded()) return 0;
  agnostic::fuzz::expect_result_or_error([&] { agnostic::stats::parse_workspace(j, "fuzz.json"); });
  return 0;
}
