// train::run, the training entry point, compiled once for the programs of this build that run it
// (tools/train_run.hpp says which and why).
#include "train_run.hpp"

template agnostic::train::RunResult agnostic::train::run<void>(const agnostic::train::TrainConfig&,
                                                               const agnostic::train::RunOptions&);
