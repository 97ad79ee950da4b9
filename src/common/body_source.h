// A response body produced piece by piece (a file of many gigabytes), after the handler's
// transaction has ended. Capabilities make them (data/service.h: a file's range from the packs;
// data/inputs/job_inputs.h: an export's copy); the HTTP edge sends them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace openlab {

// Read fills `buf` with up to `cap` bytes and returns how many; 0 means the end. An error after
// the headers were sent makes the server drop the connection, so a client never mistakes a
// truncated body for a whole one.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual bool Read(char* buf, size_t cap, size_t* n, std::string* error) = 0;
};

// A source over an open file descriptor (it closes it), read from its current offset.
std::shared_ptr<BodySource> FdSource(int fd, std::string what);

}  // namespace openlab
