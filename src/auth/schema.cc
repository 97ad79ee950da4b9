#include "auth/schema.h"

namespace openlab::auth {
namespace {

// Part 1 of version 1, between the tenants' tables and the audit trail (see tenants/schema.cc:
// the step's SQL is kept byte for byte as it shipped, so it is split, not re-ordered).
const char* kV1TokensSessions = R"SQL(CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT);
CREATE INDEX tokens_by_user ON tokens(user_id);
CREATE TABLE sessions (
  secret_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL);
)SQL";

// A user's tokens listed in id order, the list's cursor, from the index alone.
const char* kV13TokenList = R"SQL(
DROP INDEX tokens_by_user;
CREATE INDEX tokens_by_user ON tokens(user_id, id)
)SQL";

}  // namespace

std::vector<store::MigrationPart> Migrations() {
  return {
      {1, 1, "", kV1TokensSessions, ""},
      {13, 0, "a user's tokens in list order", kV13TokenList, ""},
  };
}

}  // namespace openlab::auth
