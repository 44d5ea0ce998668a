// The single doctest main shared by every test executable. Tests run with the settings of agnostic's
// own programs (core/process.hpp: the OpenMP waiting policy from the node's load, which ctest's
// several test programs at once make passive, the malloc thresholds, Eigen's threading off), so that
// what they check is what the commands do; test_process_guest checks a program that never asks.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "agnostic/core/process.hpp"

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);
  return doctest::Context(argc, argv).run();
}
