#include "data/api/render.h"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>

#include "common/crypto.h"
#include "data/metadata/metadata.h"
#include "data/chunks/wire.h"

namespace openlab::http {

namespace json = boost::json;

bool MayListVersionFiles(const Ctx& ctx) { return ctx.Authorize("datasets.files").ok(); }

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object RenderDataset(const data::Dataset& d) {
  json::object o{
      {"id", d.id},
      {"org_id", d.org_id},
      {"project_id", d.project_id.empty() ? json::value(nullptr) : json::value(d.project_id)},
      {"name", d.name},
      {"title", d.title},
      {"description", d.description},
      {"license", d.license},
      {"tags", Strings(d.tags)},
      {"access_level", d.access_level},
      {"listed", d.listed},
      {"accepts_contributions", d.accepts_contributions},
      {"consortium", Strings(d.consortium)},
      {"datasheet", d.datasheet},
      {"created_by", d.created_by},
      {"created_at", FormatTime(d.created_at)},
      {"updated_at", FormatTime(d.updated_at)},
      {"version", d.version}};
  return o;
}

json::object RenderVersion(const data::Version& v) {
  return json::object{
      {"id", v.id},
      {"dataset_id", v.dataset_id},
      {"seq", v.seq},
      {"parent", v.parent.empty() ? json::value(nullptr) : json::value(v.parent)},
      {"message", v.message},
      {"files", v.file_count},
      {"bytes", v.total_bytes},
      {"new_bytes", v.new_bytes},
      {"created_by", v.created_by},
      {"contributor", v.contributor.empty() ? json::value(nullptr) : json::value(v.contributor)},
      {"created_at", FormatTime(v.created_at)},
      {"tags", Strings(v.tags)}};
}

// A file's SHA-256 is the id of its only chunk when it is small: it is shown only to those who
// may download the bytes (for restricted and hidden data, nobody).
json::object RenderFile(const data::FileEntry& f, bool hashes) {
  json::object o{{"path", f.path}, {"size", f.size}};
  if (hashes) o["sha256"] = f.sha256;
  return o;
}

bool MayDownload(Ctx& ctx, const data::Dataset& d) {
  return data::IsDownloadableLevel(d.access_level) && ctx.Authorize("datasets.download").ok();
}

json::object RenderUpload(const data::Upload& u) {
  return json::object{
      {"id", u.id},
      {"dataset_id", u.dataset_id},
      {"user_id", u.user_id},
      {"state", u.state},
      {"files", u.files},
      {"chunks", u.chunks},
      {"version_id", u.version_id.empty() ? json::value(nullptr) : json::value(u.version_id)},
      {"created_at", FormatTime(u.created_at)},
      {"updated_at", FormatTime(u.updated_at)}};
}

Status NeedData(const Api& api) {
  if (api.options().data == nullptr) {
    return Unavailable("this server does not serve the data commons");
  }
  return Status::Ok();
}

Handler WithData(Api& api, Handler h) {
  return [&api, h = std::move(h)](Ctx& ctx) -> Status {
    RETURN_IF_ERROR(NeedData(api));
    return h(ctx);
  };
}


}  // namespace openlab::http
