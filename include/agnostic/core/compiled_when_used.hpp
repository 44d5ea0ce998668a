#pragma once
// AGNOSTIC_COMPILED_WHEN_USED, written before a header's inline function, makes it a function template
// with one defaulted, unused parameter, so that it is compiled only in the programs that call it.
//
// Why: agnostic is header-only, and a compiler checks the body of every inline function it reads,
// called or not, instantiating every template the body uses. A header whose functions fit a
// likelihood or run a training method thus made every program that included it pay for Eigen's
// decompositions and the whole training stack (docs/build-cost.md: most of `agnostic.hpp`'s compile
// time). A template's body is only parsed until it is called; names that do not depend on the
// template parameter are still looked up and checked where the function is written.
//
// A caller sees no difference: `fit(model, data)` calls it as before (the parameter is never deduced,
// its default is used). The only one is taking its address, which needs `&f<>`. It is meant for
// functions whose bodies are costly to compile (decompositions, a training method, a JSON reader of a
// whole format), not for small helpers.
#define AGNOSTIC_COMPILED_WHEN_USED template <class CompiledWhenUsed = void>
