// agnostic-bench: runs one workload of ../shared/BENCHMARKS.md and prints one JSON line.
//   agnostic-bench --workload W1 --threads 2 [--chunks K] [--repeats 5] [--batch N]
//   mpirun -n K agnostic-bench --workload W1 --threads 1 [--batch N]   (built with -DAGNOSTIC_MPI=ON)
// Each workload lives in benchmarks/workloads/<id>.hpp as `nlohmann::json run_<id>(const BenchOptions&)`.
#include <cstdlib>
#include <iostream>
#include <string>

#include "agnostic/core/process.hpp"
#include "bench_options.hpp"
#include "workloads/w1.hpp"
#include "workloads/w2.hpp"
#include "workloads/w3.hpp"
#include "workloads/w4.hpp"
#include "workloads/w5.hpp"
#include "workloads/w6.hpp"
#include "workloads/w7.hpp"
#include "workloads/w8.hpp"
#include "workloads/w9.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#endif

struct Workload {
  const char* id;
  nlohmann::json (*run)(const BenchOptions&);
};

// Workloads are listed here as they land.
static const Workload kWorkloads[] = {
    {"W6", run_w6},  {"W1", &run_w1}, {"W2", &run_w2}, {"W3", &run_w3}, {"W5", &run_w5},
    {"W8", &run_w8}, {"W7", &run_w7}, {"W4", &run_w4}, {"W9", &run_w9}, {nullptr, nullptr},
};

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);  // may restart the program: before MPI starts
#ifdef AGNOSTIC_MPI
  // W1 runs data-parallel under mpirun; every rank times the same lock-step run, rank 0 prints.
  const agnostic::distributed::MpiSession mpi(argc, argv);
  const bool prints = agnostic::distributed::world().rank() == 0;
#else
  const bool prints = true;
#endif
  BenchOptions options;
  try {
    options = parse_bench_options(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "agnostic-bench: " << e.what() << "\n";
    return 2;
  }
  for (const auto& w : kWorkloads) {
    if (!w.id || options.workload != w.id) continue;
    try {
      agnostic::set_threads(options.threads);
      agnostic::set_fixed_chunks(options.chunks);
      nlohmann::json result = w.run(options);
      if (options.chunks > 0) result["chunks"] = options.chunks;
      if (prints) std::cout << result.dump() << std::endl;
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "agnostic-bench: " << options.workload << ": " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "agnostic-bench: unknown workload '" << options.workload << "'\n";
  return 2;
}
