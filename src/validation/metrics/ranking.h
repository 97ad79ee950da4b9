// The ranking metrics (see metrics/README.md for the definitions each follows).
#pragma once

namespace openlab::validation::metrics {}  // namespace openlab::validation::metrics
