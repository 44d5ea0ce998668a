#pragma once
// What the test_cli files share: the path of the built `agnostic` command and the result of running
// it (one definition for the family's single translation unit, tests/CMakeLists.txt).
#include <string>

namespace agnostic_test {

inline const std::string kBinary = AGNOSTIC_BINARY_DIR "/tools/agnostic";

struct Run {
  int code;
  std::string output;  // stdout and stderr together
};

}  // namespace agnostic_test
