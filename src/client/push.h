// The client library's push: a local directory becomes a new version of a dataset.
//
// The files are cut into content-defined chunks (data/chunks/chunker.h); the server is asked which of
// them it lacks, and only those are sent, in batches over `jobs` parallel keep-alive connections,
// while the next files are being chunked. Then the files are registered and the upload is
// committed: the version appears whole or not at all. An interrupted push resumes: the next push
// of the same dataset continues the caller's open upload (chunks already sent are not sent
// again); if that upload does not match the directory (it holds files the directory no longer
// has), a fresh one is started.
//
// Every request stays under the server's limits (data/chunks/wire.h). A file that changes while it is
// pushed is an error (the server verifies every chunk against its id). Progress and warnings
// (resuming, skipped symbolic links and special files) go to `notify` only; the result says what
// was pushed. Errors: see client/transfer.h.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "client/client.h"
#include "client/transfer.h"
#include "common/status.h"

namespace openlab::client {

struct PushOptions {
  std::string dir;           // the directory: its regular files, recursively, paths relative to it
  std::string dataset;       // the dataset's name or id
  std::string tag, message;  // the new version's name and description; "" for none
  int jobs = 4;              // parallel connections sending chunks
  int avg_chunk_kib = 64;    // average chunk size: see ValidAverageChunk
};

// Whether `kib` is an average chunk size a push can use: a power of two from 1 to 4096 (KiB).
bool ValidAverageChunk(int kib);

struct PushResult {
  uint64_t files = 0, bytes = 0;  // the files pushed and their total size
  uint64_t sent = 0;              // chunk bytes sent (those the server lacked)
  boost::json::value version;     // the new version, as the server rendered it
  double seconds = 0;             // the whole push, the directory walk included
};

StatusOr<PushResult> Push(const Credentials& creds, const PushOptions& options,
                          const Notify& notify = {});

}  // namespace openlab::client
