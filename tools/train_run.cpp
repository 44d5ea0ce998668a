// train::run, the training entry point, compiled once for the programs of a build that run it: the
// command's train and tune here, and (built a second time, with the suite's flags) the test families
// that train through it. Each of them includes train_run.hpp, which declares it `extern template`, and
// so does not compile it again (docs/build-cost.md). A user's program that includes train/run.hpp
// compiles it where it calls it, as any other header-only function.
#include "train_run.hpp"

template agnostic::train::RunResult agnostic::train::run<void>(const TrainConfig&, const RunOptions&);
