#pragma once
// `agnostic generate --model GEN.json --conditions FILE --output OUT.csv [--per-event K] [--seed S]`:
// events from a trained cGAN generator (or an ensemble of them; train/cgan_model.hpp): for
// each row of FILE, K events at that row's conditions, written with the condition columns first.
// Each event comes from the ensemble's members in turn; the same seed gives the same bytes.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/train/cgan_model.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kGenerateUsage =
    R"(usage: agnostic generate --model GEN.json --conditions FILE --output OUT.csv [--per-event K] [--seed S]

GEN.json is the generator.json that `agnostic train` writes for "method": "cgan" (one generator or
an ensemble; docs/cgan.md). FILE (CSV or .npy) holds the generator's
condition columns; other columns are ignored. OUT.csv gets, for each row of FILE, K events: the
condition columns, then the generated features. In an ensemble, event e comes from member e mod M.

options:
  --model GEN.json     the generator file
  --conditions FILE    the conditions, one row per event to generate at
  --output OUT.csv     the generated events
  --per-event K        events per row of FILE (default 1)
  --seed S             random seed (default 1); the same seed gives the same output
)";

inline int run_generate(int argc, char** argv) {
  const ParsedArguments args =
      parse_arguments(argc, argv, {"--model", "--conditions", "--output", "--per-event", "--seed"}, {});
  if (args.help) {
    std::cout << kGenerateUsage;
    return 0;
  }
  require(args.positional.empty(), "unexpected argument '", args.positional.empty() ? "" : args.positional[0],
          "'\n", kGenerateUsage);
  for (const char* option : {"--model", "--conditions", "--output"})
    require(!args.value(option).empty(), "missing option ", option, "\n", kGenerateUsage);
  const Index per_event =
      args.value("--per-event").empty() ? 1 : parse_integer("--per-event", args.value("--per-event"), 1);
  const auto seed = static_cast<std::uint64_t>(
      args.value("--seed").empty() ? 1 : parse_integer("--seed", args.value("--seed"), 0));

  const adversarial::CganGenerator generator = adversarial::read_cgan_generator(args.value("--model"));
  const MatrixD conditions =
      adversarial::condition_matrix(generator, read_tables({args.value("--conditions")}));
  const MatrixD events = adversarial::generate(generator, conditions, per_event, seed);
  CsvColumns csv;
  std::vector<std::string> names = generator.conditions;
  names.insert(names.end(), generator.features.begin(), generator.features.end());
  for (std::size_t j = 0; j < names.size(); ++j) {
    const auto column = events.col(static_cast<Index>(j));
    csv.add_numbers(names[j], std::vector<double>(column.data(), column.data() + column.size()));
  }
  csv.write(args.value("--output"));
  std::cout << "agnostic generate: " << events.rows() << " events (" << per_event << " per row of "
            << conditions.rows() << ") from " << generator.members.size() << " member(s) -> "
            << args.value("--output") << "\n";
  return 0;
}

}  // namespace agnostic::tools
