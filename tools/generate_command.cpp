// `agnostic generate --model GEN.json --conditions FILE --output OUT.csv [--per-event K] [--seed S]`:
// events from a trained cGAN generator (or an ensemble of them; train/cgan_model.hpp): for each row
// of FILE, K events at that row's conditions, written with the condition columns first. Each event
// comes from the ensemble's members in turn; the same seed gives the same bytes.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/io/data_file.hpp"
#include "agnostic/train/cgan_model.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& generate_spec() {
  static const CommandSpec spec{
      .name = "generate",
      .usage = {"--model GEN.json --conditions FILE --output OUT.csv [--per-event K] [--seed S]"},
      .description =
          "GEN.json is the generator.json that `agnostic train` writes for \"method\": \"cgan\" (one "
          "generator or\n"
          "an ensemble; docs/cgan.md). FILE (CSV or .npy) holds the generator's condition columns; other\n"
          "columns are ignored. OUT.csv gets, for each row of FILE, K events: the condition columns, then "
          "the\n"
          "generated features. In an ensemble, event e comes from member e mod M.",
      .options =
          {{.name = "--model", .value = "GEN.json", .meaning = "the generator file", .required = true},
           {.name = "--conditions",
            .value = "FILE",
            .meaning = "the conditions, one row per event to generate at",
            .required = true},
           {.name = "--output", .value = "OUT.csv", .meaning = "the generated events", .required = true},
           {.name = "--per-event", .value = "K", .meaning = "events per row of FILE", .default_value = "1"},
           {.name = "--seed",
            .value = "S",
            .meaning = "random seed; the same seed gives the same output",
            .default_value = "1"}},
  };
  return spec;
}

}  // namespace

int generate_main(int argc, char** argv) {
  const CommandSpec& spec = generate_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const Index per_event = parse_integer("--per-event", args.value("--per-event"), 1);
  const auto seed = static_cast<std::uint64_t>(parse_integer("--seed", args.value("--seed"), 0));

  const adversarial::CganGenerator generator = adversarial::read_cgan_generator(args.value("--model"));
  const MatrixD conditions =
      adversarial::condition_matrix(generator, io::read_tables({args.value("--conditions")}));
  const MatrixD events = adversarial::generate(generator, conditions, per_event, seed);
  adversarial::generated_events_csv(generator, events).write(args.value("--output"));
  std::cout << "agnostic generate: " << events.rows() << " events (" << per_event << " per row of "
            << conditions.rows() << ") from " << generator.members.size() << " member(s) -> "
            << args.value("--output") << "\n";
  return 0;
}

}  // namespace agnostic::tools
