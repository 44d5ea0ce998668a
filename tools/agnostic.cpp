// The `agnostic` command: one program, one subcommand per task. Each subcommand lives in its own
// header in tools/ and exposes `int run_<name>(int argc, char** argv)` (argv[0] is the subcommand).
#include <cstring>
#include <exception>
#include <iostream>
#include <string_view>

#include "agnostic/core/error.hpp"
#include "agnostic/core/process.hpp"
#include "export_command.hpp"
#include "fit_command.hpp"
#include "generate_command.hpp"
#include "import_command.hpp"
#include "inspect_command.hpp"
#include "plot_command.hpp"
#include "predict_command.hpp"
#include "sample_command.hpp"
#include "template_command.hpp"
#include "train_command.hpp"
#include "tune_command.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#endif

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

// Subcommands are listed here as they land.
static const Subcommand kSubcommands[] = {
    {"fit", "fit a pyhf JSON workspace: best fit, errors, MINOS, significance, CLs, toys",
     agnostic::tools::run_fit},
    {"train", "train a classifier from a JSON config (docs/config.md)", agnostic::tools::run_train},
    {"tune", "hyper-parameter search over config keys: table of trials, best config (docs/distributed.md)",
     agnostic::tools::run_tune},
    {"predict", "run a model file on a data file, write one column per output", agnostic::tools::run_predict},
    {"inspect", "show a model file's inputs, layers, outputs and parameter count",
     agnostic::tools::run_inspect},
    {"export", "write a model file as lwtnn JSON, ONNX or a standalone C++ header",
     agnostic::tools::run_export},
    {"import", "read an ONNX or lwtnn network into a model file", agnostic::tools::run_import},
    {"plot", "draw the figures of training runs, fits and results (matplotlib; docs/plot.md)",
     agnostic::tools::run_plot},
    {"sample", "ancestral sampling from histogram templates of a control region (docs/sampling.md)",
     agnostic::tools::run_sample},
    {"template",
     "ensemble of templates -> nominal + PCA shape modifiers as a pyhf workspace (docs/sampling.md)",
     agnostic::tools::run_template},
    {"generate", "events from a trained cGAN generator or ensemble at given conditions (docs/cgan.md)",
     agnostic::tools::run_generate},
    {nullptr, nullptr, nullptr},
};

static int usage(std::ostream& out) {
  out << "usage: agnostic <command> [options]\n\ncommands:\n";
  for (const auto& s : kSubcommands)
    if (s.name) out << "  " << s.name << "\t" << s.summary << "\n";
  out << "\nRun `agnostic <command> --help` for the options of one command.\n";
  return 2;
}

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);  // may restart the program: before MPI starts
#ifdef AGNOSTIC_MPI
  // Under mpirun every rank runs the command; commands that share work ask distributed::world().
  agnostic::distributed::MpiSession mpi(argc, argv);
#endif
  if (argc < 2) return usage(std::cerr);
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(std::cout);
    return 0;
  }
  for (const auto& s : kSubcommands) {
    if (!s.name || name != s.name) continue;
    try {
      return s.run(argc - 1, argv + 1);
    } catch (const std::exception& e) {
#ifdef AGNOSTIC_MPI
      auto& world = agnostic::distributed::world();
      if (world.size() > 1) {  // the other ranks would wait for this one forever
        std::cerr << "agnostic " << name << ": error on rank " << world.rank() << ": " << e.what() << "\n";
        world.abort(1);
      }
#endif
      std::cerr << "agnostic " << name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "agnostic: unknown command '" << name << "'\n";
  return usage(std::cerr);
}
