#pragma once
// The infer module: trigger-level inference of a trained model file. infer::Network (sizes at
// compile time, no allocation, const and thread-safe evaluate), the loading of a model file into it,
// and the standalone C++17 header generator. Needs the standard library, Eigen and nlohmann/json
// only: no tape, no nn/, no OpenMP, no static initialiser (docs/inference.md).
#include "agnostic/infer/dense_kernel.hpp"
#include "agnostic/infer/network.hpp"
#include "agnostic/infer/standalone_header.hpp"
