// ApiHarness::Push, apart from the rest of the harness: the chunker's FileChunks (a type) must be
// declared before the catalogue's FileChunks (a function) that harness.h brings in.
#include "data/chunks/file_chunker.h"
// clang-format off
#include "testing/harness.h"
// clang-format on

#include <fmt/format.h>

#include <boost/json.hpp>
#include <set>

#include "data/chunks/wire.h"

namespace openlab::testing {

namespace json = boost::json;

Reply ApiHarness::Push(const std::string& token, const std::string& ds,
                       const std::map<std::string, std::string>& files, const std::string& tag) {
  auto r = Call("POST", "/api/v1/datasets/" + ds + "/uploads", token, "{}");
  if (r.status != 201) return r;
  std::string up = r.Str("id");
  data::ChunkerParams p = data::ChunkerParams::WithAverage(8 * 1024);
  for (const auto& [path, content] : files) {
    auto fc =
        data::ChunkBuffer(reinterpret_cast<const uint8_t*>(content.data()), content.size(), p);
    json::array ids;
    for (const auto& c : fc.chunks) ids.emplace_back(data::ToHex(c.id));
    auto m = Call("POST", "/api/v1/uploads/" + up + "/missing", token,
                  json::serialize(json::object{{"chunks", ids}}));
    if (m.status != 200) return m;
    std::set<std::string> missing;
    for (const auto& v : m.json.at("missing").as_array())
      missing.insert(std::string(v.as_string()));
    std::string batch;
    for (const auto& c : fc.chunks) {
      if (missing.erase(data::ToHex(c.id))) {
        data::AppendChunkRecord(&batch, c.id, std::string_view(content).substr(c.offset, c.length));
      }
    }
    if (!batch.empty()) {
      auto put = Call("PUT", "/api/v1/uploads/" + up + "/chunks", token, batch,
                      {{"content-type", data::kChunkBatchType}});
      if (put.status != 200) return put;
    }
    json::array chunks;
    for (const auto& c : fc.chunks) chunks.push_back(json::array{data::ToHex(c.id), c.length});
    int64_t segments = chunks.empty() ? 0 : 1;
    json::object body{{"files", json::array{json::object{{"path", path},
                                                         {"size", fc.size},
                                                         {"sha256", data::ToHex(fc.sha256)},
                                                         {"segments", segments}}}}};
    if (segments > 0) {
      body["segments"] = json::array{json::object{{"path", path}, {"seq", 0}, {"chunks", chunks}}};
    }
    auto f = Call("POST", "/api/v1/uploads/" + up + "/files", token, json::serialize(body));
    if (f.status != 200) return f;
  }
  std::string commit = tag.empty() ? "{}" : fmt::format(R"({{"tag":"{}"}})", tag);
  return Call("POST", "/api/v1/uploads/" + up + "/commit", token, commit);
}

}  // namespace openlab::testing
