#pragma once
// Checks on an error message that test files of several families share (one definition for a
// family's single translation unit, tests/CMakeLists.txt).
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>

namespace agnostic_test {

// Every piece occurs in `message`, which must not be empty.
inline void check_contains(const std::string& message, std::initializer_list<const char*> pieces) {
  INFO("message: ", message);
  REQUIRE(!message.empty());
  for (const char* piece : pieces) {
    INFO("expected piece: ", std::string(piece));
    CHECK(message.find(piece) != std::string::npos);
  }
}

}  // namespace agnostic_test
