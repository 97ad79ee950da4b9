// libFuzzer target: the manifest parsers (a manifest line as served and read back by clients,
// the stored chunk-list encoding, dataset paths). Must never crash, hang or over-allocate; what
// parses must print back to the same canonical line.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "data/catalog/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto f = openlab::data::ParseManifestLine(in);
  if (f.ok()) {
    std::string line = openlab::data::ManifestLine(*f);
    auto again = openlab::data::ParseManifestLine(line);
    if (!again.ok() || openlab::data::ManifestLine(*again) != line) {
      std::fprintf(stderr, "a parsed manifest line does not round-trip\n");
      std::abort();
    }
  }
  auto chunks = openlab::data::DecodeChunkList(in);
  if (chunks.ok() && openlab::data::EncodeChunkList(*chunks) != in) {
    std::fprintf(stderr, "a decoded chunk list does not encode back to its text\n");
    std::abort();
  }
  (void)openlab::data::ValidateDatasetPath(in);
  return 0;
}
