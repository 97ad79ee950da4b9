// The directories a job works in: the project's space (or a sealed job's own work directory),
// owned by the project's Unix identity, and a job's workdir inside it, made without following a
// symbolic link out of it.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace openlab::compute {

// Makes `dir` (and its parents) if missing. With uid >= 0 it belongs to uid:gid, mode 0700; a
// space that belonged to someone else (made before projects had identities) is given to uid
// whole, links not followed. Internal on failure.
Status MakeOwnedDir(const std::string& dir, int64_t uid, int64_t gid);

// Makes `rel` (relative; "" is the space itself) inside `space`, one directory at a time, never
// following a symbolic link at any component (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
// new directories belong to uid:gid when uid >= 0. Returns the absolute path. InvalidArgument
// when `rel` leaves the space, or a component is a link or not a directory.
StatusOr<std::string> MakeDirsBeneath(const std::string& space, const std::string& rel, int64_t uid,
                                      int64_t gid);

}  // namespace openlab::compute
