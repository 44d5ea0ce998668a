// Build step for W5: writes the W5 model file and the standalone header generated from it
// (agnostic::infer::standalone_header) into the directory given, so that agnostic-bench reads its
// weights from a model file and compiles the header beside the other W5 contestants.
//   w5-generate DIR   ->  DIR/w5_model.json, DIR/w5_standalone.hpp (namespace w5_standalone)
#include <filesystem>
#include <fstream>
#include <iostream>

#include "agnostic/infer/standalone_header.hpp"
#include "w5_model.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: w5-generate DIR\n";
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    const auto model = w5_model_file();
    agnostic::io::write_model((dir / "w5_model.json").string(), model);
    const auto read_back = agnostic::io::read_model<float>((dir / "w5_model.json").string());
    std::ofstream out(dir / "w5_standalone.hpp");
    out << agnostic::infer::standalone_header(read_back, "w5_standalone");
    if (!out.good()) throw agnostic::Error("cannot write " + (dir / "w5_standalone.hpp").string());
  } catch (const std::exception& e) {
    std::cerr << "w5-generate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
