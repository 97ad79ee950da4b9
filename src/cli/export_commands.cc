#include "cli/export_commands.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <iostream>
#include <memory>

#include "cli/output.h"
#include "client/client.h"
#include "client/data_connection.h"

namespace openlab::cli {
namespace {

namespace json = boost::json;
using client::Client;
using client::EncodeQueryValue;
using client::ErrorLine;
using client::LoadCredentials;

struct ExportArgs {
  std::string job, id, purpose, reason, path, out;
  std::vector<std::string> paths;
};

int Fail(const std::string& msg) {
  std::string m = msg;
  for (char& ch : m) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  std::cerr << "openlab: error: " << m << "\n";
  return 1;
}

std::string Text(const json::value& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

// One export: its fields, then its files (path, size, SHA-256).
void PrintExport(const json::object& e) {
  for (const char* k : {"id", "state", "job_id", "dataset_id", "user_id", "purpose", "reason",
                        "decided_by", "created_at", "decided_at"}) {
    if (const auto* v = e.if_contains(k)) std::cout << fmt::format("{:<12}{}\n", k, Text(*v));
  }
  if (const auto* files = e.if_contains("files"); files && files->is_array()) {
    for (const auto& f : files->get_array()) {
      std::cout << fmt::format("file        {}  {} bytes  sha256 {}\n", Text(f.at("path")),
                               Text(f.at("size")), Text(f.at("sha256")));
    }
  }
}

// Sends one call; prints the export (or the list) it answers, as JSON with --json.
int Call(const Output& out, const std::string& method, const std::string& path,
         const std::optional<json::object>& body, int want) {
  Client client(LoadCredentials());
  std::optional<std::string> payload;
  if (body) payload = json::serialize(*body);
  auto r = client.Call(method, path, payload);
  if (!r.ok()) return Fail(r.status().message());
  if (r->status != want) return Fail(ErrorLine(*r));
  boost::system::error_code ec;
  json::value v = json::parse(r->body, ec);
  if (ec || !v.is_object()) return Fail("the server's answer is not a JSON object");
  if (out.json) {
    PrintJson(v);
    return 0;
  }
  const json::object& o = v.as_object();
  if (const auto* items = o.if_contains("items"); items && items->is_array()) {
    for (const auto& e : items->get_array()) {
      std::cout << fmt::format("{}  {:<8}  {} file(s)  {}\n", Text(e.at("id")), Text(e.at("state")),
                               e.at("files").as_array().size(), Text(e.at("purpose")));
    }
    return 0;
  }
  PrintExport(o);
  return 0;
}

int Get(const ExportArgs& a) {
  Client client(LoadCredentials());
  auto r = client.Call(
      "GET", fmt::format("/api/v1/exports/{}/file?path={}", a.id, EncodeQueryValue(a.path)));
  if (!r.ok()) return Fail(r.status().message());
  if (r->status != 200) return Fail(ErrorLine(*r));
  if (a.out.empty() || a.out == "-") {
    std::cout.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
    std::cout.flush();
    return std::cout ? 0 : Fail("cannot write to standard output");
  }
  int fd = ::open(a.out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(fmt::format("cannot create {}: {}", a.out, std::strerror(errno)));
  for (size_t done = 0; done < r->body.size();) {
    ssize_t w = ::write(fd, r->body.data() + done, r->body.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      ::close(fd);
      return Fail(fmt::format("cannot write {}: {}", a.out, std::strerror(errno)));
    }
    done += static_cast<size_t>(w);
  }
  ::close(fd);
  std::cerr << fmt::format("wrote {} ({} bytes, sha256 {})\n", a.out, r->body.size(),
                           r->headers["x-content-sha256"]);
  return 0;
}

}  // namespace

void AddExportCommands(CLI::App& app, const Output* out, int* exit_code) {
  auto* ex = app.add_subcommand(
      "export", "Export requests: files of a sealed job leave once a data steward approves");
  ex->require_subcommand(1);
  auto a = std::make_shared<ExportArgs>();

  auto* req = ex->add_subcommand("request", "Ask for files of a finished sealed job to leave");
  req->add_option("job", a->job, "Job id")->required();
  req->add_option("paths", a->paths,
                  "Files relative to the job's work directory, or stdout / stderr")
      ->required();
  req->add_option("--purpose", a->purpose, "What the files are and why they may leave")->required();
  req->callback([a, out, exit_code] {
    json::array p;
    for (const auto& s : a->paths) p.emplace_back(s);
    *exit_code = Call(*out, "POST", "/api/v1/jobs/" + a->job + "/exports",
                      json::object{{"paths", std::move(p)}, {"purpose", a->purpose}}, 201);
  });

  auto* ls = ex->add_subcommand("ls", "A job's export requests");
  ls->add_option("job", a->job, "Job id")->required();
  ls->callback([a, out, exit_code] {
    *exit_code = Call(*out, "GET", "/api/v1/jobs/" + a->job + "/exports", std::nullopt, 200);
  });

  auto* show = ex->add_subcommand("show", "One export request: its files and the decision");
  show->add_option("id", a->id, "Export id")->required();
  show->callback([a, out, exit_code] {
    *exit_code = Call(*out, "GET", "/api/v1/exports/" + a->id, std::nullopt, 200);
  });

  auto* approve = ex->add_subcommand("approve", "Approve (stewards of the data)");
  approve->add_option("id", a->id, "Export id")->required();
  approve->add_option("--reason", a->reason);
  approve->callback([a, out, exit_code] {
    json::object b;
    if (!a->reason.empty()) b["reason"] = a->reason;
    *exit_code = Call(*out, "POST", "/api/v1/exports/" + a->id + "/approve", b, 200);
  });

  auto* refuse = ex->add_subcommand("refuse", "Refuse, with a reason the requester sees");
  refuse->add_option("id", a->id, "Export id")->required();
  refuse->add_option("--reason", a->reason)->required();
  refuse->callback([a, out, exit_code] {
    *exit_code = Call(*out, "POST", "/api/v1/exports/" + a->id + "/refuse",
                      json::object{{"reason", a->reason}}, 200);
  });

  auto* get = ex->add_subcommand("get", "Download a file of an export");
  get->add_option("id", a->id, "Export id")->required();
  get->add_option("path", a->path, "The file, as named in the request")->required();
  get->add_option("-o,--output", a->out, "Write here (a new file) instead of standard output");
  get->callback([a, exit_code] { *exit_code = Get(*a); });
}

}  // namespace openlab::cli
