// A code submission as it travels: one JSON object, {"entry": "<command>", "files": {"<path>":
// "<base64 of the bytes>", ...}}, what `openlab submit --code DIR --entry CMD` sends. Pure
// functions: read it strictly (clean relative paths, bounded counts and sizes), write it into a
// directory, and its digest (what a validation report names as the submission's subject).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace openlab::validation {

inline constexpr size_t kMaxCodeFiles = 10000;
inline constexpr size_t kMaxEntryLength = 2000;

struct CodeTree {
  std::string entry;                         // run with /bin/sh -c in the code's directory
  std::map<std::string, std::string> files;  // clean relative path -> bytes
};

// InvalidArgument naming the first problem: not an object of "files" and "entry" (and nothing
// else), an over-long entry, or an empty or absent one where `entry_required` (a phase with an
// ingestion program runs the code itself: there the entry may be left out), a path that is
// absolute, empty, has "." or ".." components, a NUL, a backslash, or repeats another; a file
// that is also a directory of another; bad base64; more than kMaxCodeFiles files.
StatusOr<CodeTree> ParseCodeTree(std::string_view json, bool entry_required = true);

// SHA-256 (hex) of the tree's canonical listing: for each file in path order "<sha256 of its
// bytes>  <path>\n", then "entry  <entry>\n". Two trees with the same files and entry have the
// same digest, whatever order the JSON had.
std::string CodeTreeDigest(const CodeTree& tree);

// Writes the files under `dir` (created), directories 0755, files 0644 (0755 where the file
// starts with "#!").
Status WriteCodeTree(const CodeTree& tree, const std::string& dir);

}  // namespace openlab::validation
