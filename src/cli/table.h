// The command line's plain-text tables: columns aligned with two spaces between them, the last
// column not padded. Rows may differ in length.
#pragma once

#include <iostream>
#include <string>
#include <vector>

namespace openlab::cli {

void PrintRows(const std::vector<std::vector<std::string>>& rows, std::ostream& out = std::cout);

}  // namespace openlab::cli
