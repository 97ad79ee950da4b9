// Identifiers: time-ordered, random, URL-safe ("org_01JD...").
#pragma once

#include <string>
#include <string_view>

namespace openlab {

// Returns prefix + "_" + 26 Crockford base32 characters: 48 bits of milliseconds then 80 random
// bits, so ids sort by creation time (cursor pagination relies on it). Within one process, ids
// made in the same millisecond still increase. Thread-safe.
std::string NewId(std::string_view prefix);

// True if `id` is safe to use as a path segment and a key: 1-64 characters of [A-Za-z0-9_-].
bool IsValidId(std::string_view id);

// True if `name` is a valid short name (slug): 2-63 chars of [a-z0-9-], starting with a letter,
// not ending with '-'.
bool IsValidSlug(std::string_view name);

}  // namespace openlab
