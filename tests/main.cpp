// The single doctest main shared by every test executable. ctest runs several test programs at
// once, so each asks for passive OpenMP waiting (see core/threads.hpp) before doing anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "agnostic/core/threads.hpp"

int main(int argc, char** argv) {
  agnostic::choose_openmp_waiting(argv);
  return doctest::Context(argc, argv).run();
}
