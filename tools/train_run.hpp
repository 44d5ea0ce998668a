#pragma once
// For the programs that link the object of tools/train_run.cpp (the `agnostic_train_run` library,
// CMakeLists.txt): train::run is compiled there, once, and not again in each program that calls it.
#include "agnostic/train/run.hpp"

extern template agnostic::train::RunResult agnostic::train::run<void>(const TrainConfig&, const RunOptions&);
