#pragma once
// The whole nn/ module: initialisers, layers, Sequential, evaluating a network over data in chunks,
// the bridge between model files and Sequential (docs/architecture.md).
#include "agnostic/nn/activation_layer.hpp"
#include "agnostic/nn/dense_layer.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/initialisers.hpp"
#include "agnostic/nn/layer.hpp"
#include "agnostic/nn/model_network.hpp"
#include "agnostic/nn/sequential.hpp"
