#pragma once
// The subcommands of `agnostic`, one translation unit each (tools/<name>_command.cpp), so that they
// compile in parallel and each includes only the library headers it needs. Each takes the
// subcommand's own argv (argv[0] is its name) and returns the exit status.
namespace agnostic::train {
struct TrainConfig;
struct RunOptions;
struct RunResult;
}  // namespace agnostic::train

namespace agnostic::tools {

int fit_main(int argc, char** argv);
int train_main(int argc, char** argv);
int tune_main(int argc, char** argv);
int predict_main(int argc, char** argv);
int inspect_main(int argc, char** argv);
int export_main(int argc, char** argv);
int import_main(int argc, char** argv);
int plot_main(int argc, char** argv);
int sample_main(int argc, char** argv);
int template_main(int argc, char** argv);
int generate_main(int argc, char** argv);
int workspace_main(int argc, char** argv);

// train::run, compiled once, in train_command.cpp: tune's trials train through it.
train::RunResult run_training(const train::TrainConfig& config, const train::RunOptions& options);

}  // namespace agnostic::tools
