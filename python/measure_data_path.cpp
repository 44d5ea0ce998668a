// The in-memory data path of agnostic.train, old (columns copied into the table's doubles) against new
// (float32/float64 read in place): 10 columns of N rows (9 features, the label) as the "NumPy arrays",
// then the table, the lease and prepare_data<float> as every method runs it. Peak RSS above the arrays.
// Not part of the build (docs/python.md gives the figures). Before: a tree before the change (git worktree),
// without -DIN_PLACE; after: this tree with -DIN_PLACE. Run with OMP_NUM_THREADS=1 [ROWS]:
//   g++ -O2 -std=c++20 -fopenmp -I<tree>/include -isystem /usr/include/eigen3 [-DIN_PLACE] [-DFLOAT32]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "agnostic/io/data_file.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/prepared_data.hpp"
#ifdef IN_PLACE
#include "agnostic/io/fingerprint.hpp"
#endif

#ifdef FLOAT32
using Element = float;
#else
using Element = double;
#endif

static double cpu_seconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

static double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long size, resident;
  statm >> size >> resident;
  return static_cast<double>(resident) * 4096.0 / (1 << 20);
}

int main(int argc, char** argv) {
  using namespace agnostic;
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 10'000'000;
  std::vector<std::vector<Element>> arrays(10, std::vector<Element>(n));
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  for (std::size_t i = 0; i < n; ++i) arrays[9][i] = (rng() & 1) ? 1 : 0;
  for (int j = 0; j < 9; ++j)
    for (std::size_t i = 0; i < n; ++i) arrays[j][i] = static_cast<Element>(normal(rng) + 0.3 * arrays[9][i]);
  const double before = resident_mib();
  nlohmann::json j = {{"method", "classifier"},
                      {"data", {{"files", {"x.csv"}}, {"label", "label"}, {"validation_fraction", 0.01}}},
                      {"model", {{"hidden", {4}}}}};
  for (int k = 0; k < 9; ++k) j["data"]["features"].push_back("x" + std::to_string(k));
  train::TrainConfig c = train::config_from_json(j, "config");
  const std::string name = "(data given to agnostic.train)";
  c.data.files = {name};
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  {
    io::Table table(name);
    for (int k = 0; k < 10; ++k) {
      const std::string column = k < 9 ? "x" + std::to_string(k) : "label";
#ifdef IN_PLACE
      table.add_column(column, io::ColumnView(arrays[k].data(), n), std::make_shared<int>(0));
#else
      table.add_column(column, std::vector<double>(arrays[k].begin(), arrays[k].end()));
#endif
    }
    io::LentTable lent(name, std::move(table));
    const auto prepared = train::prepare_data<float>(c);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    std::printf(
        "%zu rows x 10 %s columns (%.0f MiB): table + prepare_data %.2f s wall, %.2f s CPU, peak RSS %.0f "
        "MiB above the "
        "arrays (%zu training rows)\n",
        n, sizeof(Element) == 8 ? "float64" : "float32", 10.0 * n * sizeof(Element) / (1 << 20), seconds, cpu,
        static_cast<double>(usage.ru_maxrss) / 1024 - before, prepared.split.train.size());
#ifdef IN_PLACE
    const double fingerprint_start = cpu_seconds();
    const std::string fingerprint = io::data_fingerprint(c.data.files);
    std::printf("data fingerprint %s: %.2f s CPU\n", fingerprint.c_str(), cpu_seconds() - fingerprint_start);
#endif
  }
}
