// The translation unit that holds agnostic's float and double instances for a program compiled with
// AGNOSTIC_EXTERN_INSTANCES (docs/build-cost.md): measure.sh times it once beside the *_extern units.
#include <agnostic/instances.hpp>
