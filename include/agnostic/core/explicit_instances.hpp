#pragma once
// AGNOSTIC_INSTANCE: lets a program compile agnostic's float and double templates once instead of in
// every translation unit that uses them. Opt-in; without it nothing changes.
//
// Why: agnostic is header-only, so each translation unit that builds a network, records a step and
// takes an optimiser step generates the code of every template it uses: the layers and their virtual
// functions, every operation's forward and backward, the losses, the optimisers, and under them Eigen's
// products (docs/build-cost.md: most of such a unit's compile time). A program with many such units
// pays for that many times.
//
// How: define AGNOSTIC_EXTERN_INSTANCES in every translation unit of the program (`-D` on the command
// line, or CMake's target_compile_definitions), and include <agnostic/instances.hpp> in exactly one
// translation unit of it, which then holds the instances. Each header of core, autodiff, nn, losses and
// optim names its heavy templates for float and double after AGNOSTIC_INSTANCE: with
// AGNOSTIC_EXTERN_INSTANCES that is `extern template` (the compiler uses the instance and does not
// generate it), in <agnostic/instances.hpp> it is `template` (it generates it here). A template or a
// type not named there (a user's own type, an inline helper) is compiled where it is used, as before.
//
// The instances are compiled with the flags of the translation unit that holds them: compile it as
// the rest of the program (the same -O, -march, -ffp-contract), so that a result does not depend on
// which unit a function was generated in. Calls are the same; only where the code is generated moves.
#if defined(AGNOSTIC_DEFINE_INSTANCES)
#define AGNOSTIC_INSTANCE template
#elif defined(AGNOSTIC_EXTERN_INSTANCES)
#define AGNOSTIC_INSTANCE extern template
#endif

// Read by agnostic/instances.hpp, which must come before every header that names instances.
#define AGNOSTIC_EXPLICIT_INSTANCES_READ
