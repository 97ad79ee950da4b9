#include "http/schema.h"

#include <cstdlib>
#include <iostream>

#include "auth/schema.h"
#include "compute/schema.h"
#include "data/schema.h"
#include "tenants/schema.h"

namespace openlab::http {

const std::vector<store::Migration>& AllMigrations() {
  static const std::vector<store::Migration> kAll = [] {
    auto all = store::AssembleMigrations(
        {tenants::Migrations(), auth::Migrations(), compute::Migrations(), data::Migrations()});
    if (!all.ok()) {
      std::cerr << "openlab: the schema does not assemble: " << all.status().message() << "\n";
      std::abort();
    }
    return std::move(all).value();
  }();
  return kAll;
}

}  // namespace openlab::http
