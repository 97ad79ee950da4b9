#include "cli/data_commands.h"

#include <fmt/format.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/output.h"
#include "cli/table.h"
#include "client/client.h"
#include "client/data_connection.h"
#include "client/pull.h"
#include "client/push.h"
#include "client/transfer.h"

namespace openlab::cli {

namespace {

namespace json = boost::json;
using client::CallJson;
using client::DataConnection;
using client::EncodeQueryValue;
using client::Field;
using client::GetVersion;
using client::IntField;
using client::ListVersionFiles;
using client::LoadCredentials;
using client::ResolveDataset;
using client::SplitRef;
using client::Text;

std::string Human(uint64_t n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.2f} {}", v, units[u]);
}

// A transfer's notices, on stderr.
void Notice(const std::string& line) { std::cerr << "openlab: " << line << "\n"; }

Status Push(const Output& out, const client::PushOptions& o) {
  if (!client::ValidAverageChunk(o.avg_chunk_kib)) {
    return InvalidArgument("--avg-chunk must be a power of two from 1 to 4096 (KiB)");
  }
  ASSIGN_OR_RETURN(client::PushResult r, client::Push(LoadCredentials(), o, Notice));
  if (out.json) {
    PrintJson(json::object{{"files", r.files},
                           {"bytes", r.bytes},
                           {"sent", r.sent},
                           {"seconds", r.seconds},
                           {"version", r.version}});
    return Status::Ok();
  }
  std::cout << fmt::format(
      "pushed {} files, {} bytes ({}), sent {} bytes, new {} bytes, version {}, {:.2f} s, "
      "{:.1f} MB/s\n",
      r.files, r.bytes, Human(r.bytes), r.sent, IntField(r.version, "new_bytes"),
      Field(r.version, "id"), r.seconds,
      r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0.0);
  return Status::Ok();
}

Status Pull(const Output& out, const client::PullOptions& o) {
  ASSIGN_OR_RETURN(client::PullResult r, client::Pull(LoadCredentials(), o, Notice));
  if (out.json) {
    PrintJson(json::object{{"files", r.files},
                           {"bytes", r.bytes},
                           {"already_there", r.already_there},
                           {"received", r.received},
                           {"version_id", r.version_id},
                           {"quarantined", r.quarantined},
                           {"seconds", r.seconds}});
    return Status::Ok();
  }
  std::cout << fmt::format(
      "pulled {} files, {} bytes ({}), {} already there, received {} bytes, version {}, {:.2f} "
      "s, {:.1f} MB/s{}\n",
      r.files, r.bytes, Human(r.bytes), r.already_there, r.received, r.version_id, r.seconds,
      r.seconds > 0 ? static_cast<double>(r.received) / 1e6 / r.seconds : 0.0,
      r.quarantined > 0 ? fmt::format("; {} quarantined file(s) left out", r.quarantined) : "");
  return Status::Ok();
}

struct CreateArgs {
  std::string name, project, org, license, access, title, description, datasheet;
  std::vector<std::string> tags, consortium;
  bool listed = false;
};

Status Create(const Output& out, const CreateArgs& a) {
  if (a.project.empty() == a.org.empty()) return InvalidArgument("give --project or --org");
  json::object body{{"name", a.name}, {"license", a.license}, {"access_level", a.access}};
  if (!a.project.empty()) body["project_id"] = a.project;
  if (!a.org.empty()) body["org_id"] = a.org;
  if (!a.title.empty()) body["title"] = a.title;
  if (!a.description.empty()) body["description"] = a.description;
  if (!a.tags.empty()) body["tags"] = json::value_from(a.tags);
  if (!a.consortium.empty()) body["consortium"] = json::value_from(a.consortium);
  if (a.listed) body["listed"] = true;
  if (!a.datasheet.empty()) {
    std::ifstream in(a.datasheet);
    if (!in) return Internal(fmt::format("cannot read {}", a.datasheet));
    std::stringstream ss;
    ss << in.rdbuf();
    body["datasheet"] = ss.str();
  }
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(json::value d, CallJson(c, "POST", "/api/v1/datasets", json::serialize(body),
                                           "creating the dataset"));
  if (out.json) {
    PrintJson(d);
  } else {
    std::cout << Field(d, "id") << "\n";
  }
  return Status::Ok();
}

Status Ls(const Output& out, const std::string& ref) {
  DataConnection c(LoadCredentials());
  std::vector<std::vector<std::string>> rows;
  json::array items;  // for --json
  std::string cursor;
  if (ref.empty()) {
    rows.push_back({"ID", "NAME", "LEVEL", "TAGS"});
    for (;;) {
      std::string path = "/api/v1/datasets?limit=500";
      if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
      ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path));
      for (const auto& d : v.at("items").as_array()) {
        rows.push_back(
            {Field(d, "id"), Field(d, "name"), Field(d, "access_level"), Field(d, "tags")});
        items.push_back(d);
      }
      const json::value* next = v.as_object().if_contains("next_cursor");
      if (!next || !next->is_string()) break;
      cursor = std::string(next->get_string());
    }
    if (out.json) {
      PrintJson(json::object{{"items", std::move(items)}});
    } else {
      PrintRows(rows);
    }
    return Status::Ok();
  }
  auto [name, version] = SplitRef(ref);
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(c, name));
  ASSIGN_OR_RETURN(json::value v, GetVersion(c, ds, version));
  ASSIGN_OR_RETURN(auto files, ListVersionFiles(c, ds, Field(v, "id")));
  rows.push_back({"SIZE", "SHA256", "PATH"});
  for (const auto& f : files) {
    rows.push_back({std::to_string(f.size), f.sha256.substr(0, 12), f.path});
    items.push_back(json::object{{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  }
  if (out.json) {
    PrintJson(json::object{{"version", v}, {"items", std::move(items)}});
  } else {
    PrintRows(rows);
  }
  return Status::Ok();
}

Status Log(const Output& out, const std::string& ref) {
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(c, ref));
  std::vector<std::vector<std::string>> rows{
      {"VERSION", "DATE", "FILES", "BYTES", "NEW_BYTES", "TAGS", "MESSAGE", "CONTRIBUTOR"}};
  json::array items;  // for --json
  std::string cursor;
  for (;;) {
    std::string path = fmt::format("/api/v1/datasets/{}/versions?limit=500", ds);
    if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
    ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path, "", "reading the log"));
    for (const auto& x : v.at("items").as_array()) {
      items.push_back(x);
      std::string who = Field(x, "contributor");
      if (who == "-") who = Field(x, "created_by");
      std::string msg = Field(x, "message");
      if (msg.empty()) msg = "-";
      rows.push_back({Field(x, "id").substr(0, 12), Field(x, "created_at"),
                      std::to_string(IntField(x, "files")), std::to_string(IntField(x, "bytes")),
                      std::to_string(IntField(x, "new_bytes")), Field(x, "tags"), msg, who});
    }
    const json::value* next = v.as_object().if_contains("next_cursor");
    if (!next || !next->is_string()) break;
    cursor = std::string(next->get_string());
  }
  if (out.json) {
    PrintJson(json::object{{"items", std::move(items)}});
  } else {
    PrintRows(rows);
  }
  return Status::Ok();
}

Status Diff(const Output& out, const std::string& ref, const std::string& a, const std::string& b) {
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(c, ref));
  ASSIGN_OR_RETURN(json::value d, CallJson(c, "GET",
                                           fmt::format("/api/v1/datasets/{}/diff?from={}&to={}", ds,
                                                       EncodeQueryValue(a), EncodeQueryValue(b)),
                                           "", "comparing the versions"));
  if (out.json) {
    PrintJson(d);
    return Status::Ok();
  }
  const auto& o = d.as_object();
  for (const auto& f : o.at("added").as_array()) {
    std::cout << "added     " << Field(f, "path") << " (" << IntField(f, "size") << " bytes)\n";
  }
  for (const auto& f : o.at("removed").as_array()) {
    std::cout << "removed   " << Field(f, "path") << " (" << IntField(f, "size") << " bytes)\n";
  }
  for (const auto& f : o.at("modified").as_array()) {
    std::cout << "modified  " << Field(f, "path") << " (" << IntField(f, "size_from") << " -> "
              << IntField(f, "size_to") << " bytes)\n";
  }
  std::cout << fmt::format(
      "{} added, {} removed, {} modified, {} unchanged; {} -> {} bytes; new chunk bytes {}\n",
      o.at("added").as_array().size(), o.at("removed").as_array().size(),
      o.at("modified").as_array().size(), IntField(d, "unchanged"), IntField(d, "bytes_from"),
      IntField(d, "bytes_to"), IntField(d, "new_chunk_bytes"));
  return Status::Ok();
}

void PrintReport(const json::value& v) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& kv : v.as_object()) {
    if (kv.value().is_array()) continue;
    rows.push_back({std::string(kv.key()), Text(&kv.value())});
  }
  PrintRows(rows);
}

Status Fsck(const Output& out, bool files) {
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(json::value v,
                   CallJson(c, "POST", files ? "/api/v1/data/fsck?files=true" : "/api/v1/data/fsck",
                            "", "checking the store"));
  if (out.json) {
    PrintJson(v);
  } else {
    PrintReport(v);
  }
  if (const json::value* p = v.as_object().if_contains("problems");
      !out.json && p && p->is_array()) {
    for (const auto& x : p->get_array()) std::cout << "problem: " << Text(&x) << "\n";
  }
  const json::value* ok = v.as_object().if_contains("ok");
  if (!ok || !ok->is_bool() || !ok->get_bool()) {
    return Internal(out.json ? "the data store has problems (see \"problems\")"
                             : "the data store has problems (see above)");
  }
  return Status::Ok();
}

Status Gc(const Output& out, int ttl_hours) {
  DataConnection c(LoadCredentials());
  std::string path = "/api/v1/data/gc";
  if (ttl_hours >= 0) path += fmt::format("?upload_ttl_hours={}", ttl_hours);
  ASSIGN_OR_RETURN(json::value v, CallJson(c, "POST", path, "", "collecting garbage"));
  if (out.json) {
    PrintJson(v);
  } else {
    PrintReport(v);
  }
  return Status::Ok();
}

void Finish(int* exit_code, const Status& s) {
  if (s.ok()) {
    *exit_code = 0;
    return;
  }
  std::string m = s.message();
  for (char& ch : m) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  std::cerr << "openlab: error: " << m << "\n";
  *exit_code = 1;
}

}  // namespace

void AddDataCommands(CLI::App& app, const Output* out, int* exit_code) {
  auto* data = app.add_subcommand("data", "Datasets: create, push and pull versions, inspect");
  data->require_subcommand(1);

  auto create = std::make_shared<CreateArgs>();
  auto* c = data->add_subcommand("create", "Create a dataset; prints its id");
  c->add_option("name", create->name, "Name: 2-63 of [a-z0-9-]")->required();
  auto* proj = c->add_option("--project", create->project, "Owner project id");
  auto* org = c->add_option("--org", create->org, "Owner organisation id");
  proj->excludes(org);
  c->add_option("--license", create->license, "SPDX licence id, e.g. CC-BY-4.0")->required();
  c->add_option("--access", create->access, "Access level")
      ->required()
      ->check(
          CLI::IsMember({"open", "registered", "consortium", "project", "restricted", "hidden"}));
  c->add_option("--title", create->title);
  c->add_option("--description", create->description);
  c->add_option("--tag", create->tags, "Domain tag (repeatable)");
  c->add_flag("--listed", create->listed, "Metadata visible to everyone");
  c->add_option("--consortium", create->consortium, "Admitted organisation id (repeatable)");
  c->add_option("--datasheet", create->datasheet, "Markdown file with the datasheet");
  c->callback([create, out, exit_code] { Finish(exit_code, Create(*out, *create)); });

  auto push = std::make_shared<client::PushOptions>();
  auto* p = data->add_subcommand("push", "Push a directory as a new version of a dataset");
  p->add_option("dir", push->dir, "Directory to push")->required();
  p->add_option("dataset", push->dataset, "Dataset name or id")->required();
  p->add_option("--tag", push->tag, "Name the new version");
  p->add_option("--message", push->message, "What changed");
  p->add_option("--jobs", push->jobs, "Parallel connections (default 4)")->check(CLI::Range(1, 64));
  p->add_option("--avg-chunk", push->avg_chunk_kib, "Average chunk size in KiB (default 64)");
  p->callback([push, out, exit_code] { Finish(exit_code, Push(*out, *push)); });

  auto pull = std::make_shared<client::PullOptions>();
  auto* pl = data->add_subcommand("pull", "Download a version of a dataset into a directory");
  pl->add_option("dataset", pull->ref, "DATASET[@VERSION] (a tag or id prefix; default latest)")
      ->required();
  pl->add_option("dir", pull->dir, "Directory to write")->required();
  pl->add_option("--jobs", pull->jobs, "Parallel connections (default 4)")
      ->check(CLI::Range(1, 64));
  pl->callback([pull, out, exit_code] { Finish(exit_code, Pull(*out, *pull)); });

  auto ls = std::make_shared<std::string>();
  auto* l = data->add_subcommand("ls", "List datasets, or the files of a version");
  l->add_option("dataset", *ls, "DATASET[@VERSION]");
  l->callback([ls, out, exit_code] { Finish(exit_code, Ls(*out, *ls)); });

  auto log = std::make_shared<std::string>();
  auto* lg = data->add_subcommand("log", "A dataset's versions, newest first");
  lg->add_option("dataset", *log, "Dataset name or id")->required();
  lg->callback([log, out, exit_code] { Finish(exit_code, Log(*out, *log)); });

  auto diff = std::make_shared<std::array<std::string, 3>>();
  auto* df = data->add_subcommand("diff", "What changed between two versions");
  df->add_option("dataset", (*diff)[0], "Dataset name or id")->required();
  df->add_option("from", (*diff)[1], "Version (tag or id prefix)")->required();
  df->add_option("to", (*diff)[2], "Version (tag or id prefix)")->required();
  df->callback([diff, out, exit_code] {
    Finish(exit_code, Diff(*out, (*diff)[0], (*diff)[1], (*diff)[2]));
  });

  auto fsck_files = std::make_shared<bool>(false);
  auto* fk = data->add_subcommand("fsck", "Verify the data store (operators)");
  fk->add_flag("--files", *fsck_files, "Also verify every file's SHA-256");
  fk->callback([fsck_files, out, exit_code] { Finish(exit_code, Fsck(*out, *fsck_files)); });

  auto ttl = std::make_shared<int>(-1);
  auto* g = data->add_subcommand("gc", "Remove unreferenced chunks, compact packs (operators)");
  g->add_option("--upload-ttl-hours", *ttl, "Expire uploads idle this long (default 168)")
      ->check(CLI::Range(0, 999999));
  g->callback([ttl, out, exit_code] { Finish(exit_code, Gc(*out, *ttl)); });
}

}  // namespace openlab::cli
