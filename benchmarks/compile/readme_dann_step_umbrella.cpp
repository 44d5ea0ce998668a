// The README's DANN step with the umbrella header agnostic.hpp: the same step as
// readme_dann_step_modules.cpp (included below, its module headers already inside agnostic.hpp), as
// docs/build-cost.md measures its compile cost.
#include <agnostic/agnostic.hpp>

#include "readme_dann_step_modules.cpp"
