// openlab's version, as validation reports and the command line state it.
#pragma once

#include <string_view>

namespace openlab {

inline constexpr std::string_view kVersion = "0.12.0";

}  // namespace openlab
