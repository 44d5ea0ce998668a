#pragma once
// One exception type for every error a user can act on: bad input, bad shapes, bad settings.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace agnostic {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from any streamable pieces: fail("column ", name, " not found").
template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  throw Error(out.str());
}

template <class... Parts>
void require(bool condition, Parts&&... parts) {
  if (!condition) fail(std::forward<Parts>(parts)...);
}

}  // namespace agnostic
