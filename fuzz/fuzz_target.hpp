#pragma once
// What every libFuzzer target of fuzz/ shares: a reader given arbitrary bytes must either return
// or throw agnostic::Error (a message for the user). Anything else — a crash, a sanitizer report,
// another exception type escaping, a hang — is a bug that libFuzzer reports with the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agnostic/core/error.hpp"

namespace agnostic::fuzz {

inline std::string_view bytes_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `read` and swallows the user-facing errors only.
template <class Read>
void expect_result_or_error(Read&& read) {
  try {
    read();
  } catch (const agnostic::Error&) {
  }
}

}  // namespace agnostic::fuzz
