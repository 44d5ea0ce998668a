#pragma once
// For the programs of this build that train through train::run (the command's train and tune, the
// Python module, the test families that call it): train::run is compiled once, in tools/train_run.cpp
// (the `agnostic_train_run` object, CMakeLists.txt), and declared here so that the programs that
// include this header do not compile it again (docs/build-cost.md). The object also holds agnostic's
// float and double instances (agnostic/instances.hpp): the programs that link it are compiled with
// AGNOSTIC_EXTERN_INSTANCES. A user's program includes train/run.hpp and compiles it where it calls
// it, as any other header-only function.
#include "agnostic/train/run.hpp"

extern template agnostic::train::RunResult agnostic::train::run<void>(const agnostic::train::TrainConfig&,
                                                                      const agnostic::train::RunOptions&);
