// The `agnostic` command: one program, one subcommand per task. Each subcommand is its own
// translation unit, tools/<name>_command.cpp, declared in tools/commands.hpp.
#include <cstring>
#include <exception>
#include <iostream>
#include <string_view>

#include "agnostic/core/error.hpp"
#include "agnostic/core/process.hpp"
#include "agnostic/distributed/world.hpp"
#include "commands.hpp"

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

// Subcommands are listed here as they land.
static const Subcommand kSubcommands[] = {
    {"fit", "fit a pyhf JSON workspace: best fit, errors, MINOS, significance, CLs, toys",
     agnostic::tools::fit_main},
    {"train", "train the network a JSON config describes, by any method of docs/config.md",
     agnostic::tools::train_main},
    {"tune", "hyper-parameter search over config keys: table of trials, best config (docs/distributed.md)",
     agnostic::tools::tune_main},
    {"predict", "run a model file on a data file, write one column per output",
     agnostic::tools::predict_main},
    {"inspect", "show a model file's inputs, layers, outputs and parameter count",
     agnostic::tools::inspect_main},
    {"export", "write a model file as lwtnn JSON, ONNX or a standalone C++ header",
     agnostic::tools::export_main},
    {"import", "read an ONNX or lwtnn network into a model file", agnostic::tools::import_main},
    {"plot", "draw the figures of training runs, fits and results (matplotlib; docs/plot.md)",
     agnostic::tools::plot_main},
    {"sample", "ancestral sampling from histogram templates of a control region (docs/sampling.md)",
     agnostic::tools::sample_main},
    {"template",
     "ensemble of templates -> nominal + PCA shape modifiers as a pyhf workspace (docs/sampling.md)",
     agnostic::tools::template_main},
    {"generate", "events from a trained cGAN generator or ensemble at given conditions (docs/cgan.md)",
     agnostic::tools::generate_main},
    {"workspace",
     "pyhf's workspace tools (inspect, prune, rename, combine, digest, sort) and build from events",
     agnostic::tools::workspace_main},
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
  agnostic::configure_process(argc, argv);  // first: before MPI starts threads or allocates
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
      agnostic::Communicator& world = agnostic::distributed::world();
      if (world.size() > 1) {  // the other ranks would wait for this one forever
        std::cerr << "agnostic " << name << ": error on rank " << world.rank() << ": " << e.what() << "\n";
        world.abort(1);
      }
      std::cerr << "agnostic " << name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "agnostic: unknown command '" << name << "'\n";
  return usage(std::cerr);
}
