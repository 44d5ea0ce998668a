// `agnostic fit`: its own translation unit; the command is tools/fit_command.hpp.
#include "fit_command.hpp"

#include "commands.hpp"

namespace agnostic::tools {

int fit_main(int argc, char** argv) {
  return run_fit(argc, argv);
}

}  // namespace agnostic::tools
