// What the data commons' routes share: rendering of datasets, versions, files and uploads, and
// the one rule for who may see a version's files (lists page with http/render.h's ReadPage).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/catalog/datasets.h"
#include "data/inputs/job_inputs.h"
#include "data/service.h"
#include "http/api.h"
#include "http/render.h"
#include "http/router.h"

namespace openlab::http {

// The one rule for the files of a dataset's versions (names, sizes, SHA-256): whether the policy
// lets the caller list them (datasets.files), `ctx.relation` being the caller's relation to the
// dataset. Every handler that could show a version's file entries (listings, diffs, a
// contribution's diff, Croissant, flags) asks it.
bool MayListVersionFiles(const Ctx& ctx);
// Whether the caller may download the bytes of `d` (its level allows downloads at all, and the
// policy lets the caller).
bool MayDownload(Ctx& ctx, const data::Dataset& d);

boost::json::array Strings(const std::vector<std::string>& v);

boost::json::object RenderDataset(const data::Dataset& d);
boost::json::object RenderVersion(const data::Version& v);
// A file's SHA-256 is the id of its only chunk when it is small: `hashes` only for those who
// may download the bytes (for restricted and hidden data, nobody).
boost::json::object RenderFile(const data::FileEntry& f, bool hashes);
boost::json::object RenderUpload(const data::Upload& u);
boost::json::object RenderExport(const data::ExportRequest& e);  // exports_routes.cc

// Unavailable on a server without the chunk store.
Status NeedData(const Api& api);
// `h`, for a route that needs the chunk store: it answers 503 on a server without one.
Handler WithData(Api& api, Handler h);

}  // namespace openlab::http
