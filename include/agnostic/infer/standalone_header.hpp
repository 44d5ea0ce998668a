#pragma once
// The standalone header: a trained model written out as one self-contained C++17 header that
// includes only standard headers (no Eigen, no agnostic, no OpenMP), for trigger code that may
// have none of them. Weights are constexpr arrays; the header offers
//   namespace NAME { constexpr std::size_t n_inputs, n_outputs; input_names, output_names;
//                    inline void evaluate(const float* raw_features, float* outputs) noexcept; }
// with the standardisation and the missing-value rules built in.
#include <string>

#include "agnostic/core/error.hpp"
#include "agnostic/io/model_file.hpp"

namespace agnostic::infer {

inline std::string standalone_header(const io::ModelFile<float>& model, const std::string& name) {
  (void)model;
  fail("standalone_header('", name, "'): not yet implemented");
}

}  // namespace agnostic::infer
