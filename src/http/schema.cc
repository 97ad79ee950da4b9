#include "http/schema.h"

#include <cstdlib>
#include <iostream>

#include "http/capability.h"

namespace openlab::http {

const std::vector<store::Migration>& AllMigrations() {
  static const std::vector<store::Migration> kAll = [] {
    std::vector<std::vector<store::MigrationPart>> parts;
    for (const Capability& c : Capabilities()) parts.push_back(c.migrations());
    auto all = store::AssembleMigrations(parts);
    if (!all.ok()) {
      std::cerr << "openlab: the schema does not assemble: " << all.status().message() << "\n";
      std::abort();
    }
    return std::move(all).value();
  }();
  return kAll;
}

}  // namespace openlab::http
