// The trigger path as a host program compiles it: agnostic/infer.hpp, a model file loaded into a
// compile-time network, one event evaluated. tests/infer_tsan.cmake builds it without OpenMP and
// checks the binary (no OpenMP, no mallopt or setenv, no static initialiser from agnostic);
// docs/inference.md times its compilation against `#include <Eigen/Dense>` and one product.
#include <cstdio>

#include "agnostic/infer.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s model.json  (a 26-48-48-48-48-3 model: the W5 shape)\n", argv[0]);
    return 2;
  }
  try {
    using Tagger = agnostic::infer::Network<float, 26, 48, 48, 48, 48, 3>;
    const auto tagger = agnostic::infer::load_network<Tagger>(argv[1]);
    float features[26] = {}, scores[3];
    tagger->evaluate(features, scores);
    std::printf("%s %.9g\n", tagger->output_names()[0].c_str(), static_cast<double>(scores[0]));
  } catch (const agnostic::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
