// train::run, the training entry point, compiled once for the programs of this build that run it
// (tools/train_run.hpp says which and why), and agnostic's float and double instances
// (agnostic/instances.hpp) for the programs of this build, which are compiled with
// AGNOSTIC_EXTERN_INSTANCES (docs/build-cost.md).
#include "agnostic/instances.hpp"  // first: it must come before every other agnostic header

#include "train_run.hpp"

template agnostic::train::RunResult agnostic::train::run<void>(const agnostic::train::TrainConfig&,
                                                               const agnostic::train::RunOptions&);
