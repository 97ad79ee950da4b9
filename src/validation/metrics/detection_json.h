// JSON with numbers read exactly: the COCO files' coordinates and scores must be the doubles
// Python's json module reads, or ties and threshold comparisons could differ from the reference.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "common/status.h"

namespace openlab::validation::metrics {

// Parses `text` as one JSON document, like boost::json::parse, except that every number with a
// fraction or exponent is converted with std::from_chars (correctly rounded; Boost.JSON 1.81
// may be one unit in the last place off). Integers are read as by Boost.JSON. A number beyond
// the range of double is an error. Error: InvalidArgument with the parser's message.
StatusOr<boost::json::value> ParseJsonWithExactNumbers(std::string_view text);

}  // namespace openlab::validation::metrics
