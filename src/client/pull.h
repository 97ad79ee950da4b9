// The client library's pull: a version of a dataset written into a local directory.
//
// Files are downloaded over `jobs` parallel keep-alive connections, a large one in 16 MiB ranges
// written in place; each lands under a temporary name (".openlab-part") and is renamed into place
// only once its SHA-256 matches the version's, so a file in the directory is either whole and
// verified or absent. An interrupted pull resumes: a file already there with the right size and
// SHA-256 is not downloaded again. On an error no partial file is kept. Paths that could leave
// the directory are refused; files the server holds back (quarantined as personal data) are
// skipped with a notice. Progress and warnings go to `notify` only; the result says what was
// pulled. Errors: see client/transfer.h.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/data_connection.h"
#include "client/transfer.h"
#include "common/status.h"

namespace openlab::client {

struct PullOptions {
  std::string ref;  // DATASET[@VERSION]: a name or id; a tag, an id prefix or "latest" (default)
  std::string dir;  // created if need be
  int jobs = 4;     // parallel connections
};

struct PullResult {
  uint64_t files = 0;          // the version's files now in the directory (quarantined ones not)
  uint64_t bytes = 0;          // their total size
  uint64_t already_there = 0;  // files that were there already, verified, not downloaded
  uint64_t received = 0;       // bytes downloaded
  uint64_t quarantined = 0;    // files left out: held back by the server
  std::string version_id;
  double seconds = 0;  // the whole pull
};

StatusOr<PullResult> Pull(const Credentials& creds, const PullOptions& options,
                          const Notify& notify = {});

// A version as the server renders it: "latest", a tag or an id prefix of dataset `ds` (an id).
StatusOr<boost::json::value> GetVersion(DataConnection& c, const std::string& ds,
                                        const std::string& version);

// The files of a version (`version` an id or as for GetVersion), in the server's order.
struct VersionFile {
  std::string path, sha256;  // sha256 in lower-case hex
  uint64_t size = 0;
  bool quarantined = false;  // flagged as personal data: the server does not serve it
};
StatusOr<std::vector<VersionFile>> ListVersionFiles(DataConnection& c, const std::string& ds,
                                                    const std::string& version);

}  // namespace openlab::client
