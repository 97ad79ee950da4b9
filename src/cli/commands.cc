#include "cli/commands.h"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/output.h"
#include "cli/table.h"
#include "client/client.h"

namespace openlab::cli {

namespace json = boost::json;
using client::Client;
using client::Credentials;
using client::CredentialsPath;
using client::ErrorLine;
using client::LoadCredentials;
using client::RemoveCredentials;
using client::SaveCredentials;

namespace {

struct Common {
  const Output* out = nullptr;
  int* exit_code = nullptr;
};

std::string Str(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "-";
  if (v.is_double()) return HumanNumber(v.get_double());  // 250, 0.00028: not 2.5E2
  if (v.is_array()) {
    std::string out;
    for (auto& x : v.get_array()) out += (out.empty() ? "" : ",") + Str(x);
    return out;
  }
  return json::serialize(v);
}

void PrintTable(const json::array& items, const std::vector<std::string>& cols) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  for (auto& c : cols) {
    std::string h = c;
    for (char& ch : h) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    header.push_back(h);
  }
  rows.push_back(std::move(header));
  for (const auto& item : items) {
    std::vector<std::string> row;
    for (const auto& col : cols) {
      const json::value* v = item.is_object() ? item.as_object().if_contains(col) : nullptr;
      row.push_back(v ? Str(*v) : "-");
    }
    rows.push_back(std::move(row));
  }
  PrintRows(rows);
}

void PrintObject(const json::object& o) {
  std::vector<std::vector<std::string>> rows;
  for (auto& kv : o) rows.push_back({std::string(kv.key()), Str(kv.value())});
  PrintRows(rows);
}

int Fail(const std::string& msg) {
  std::cerr << "openlab: error: " << msg << "\n";
  return 1;
}

// Runs one API call and prints the answer: a table of `cols` for lists, key/value otherwise.
int Run(const Common& c, const std::string& method, const std::string& path,
        const std::optional<json::object>& body, const std::vector<std::string>& cols = {}) {
  Client client(LoadCredentials());
  std::optional<std::string> payload;
  if (body) payload = json::serialize(*body);
  std::vector<std::pair<std::string, std::string>> extra;
  if (method == "POST") {
    extra.emplace_back("Idempotency-Key",
                       "cli-" + std::to_string(getpid()) + "-" + std::to_string(time(nullptr)));
  }
  auto r = client.Call(method, path, payload, extra);
  if (!r.ok()) return Fail(r.status().message());
  if (r->status >= 300) return Fail(ErrorLine(*r));
  if (r->status == 204 || r->body.empty()) {
    if (!c.out->json) std::cout << "done\n";
    return 0;
  }
  if (c.out->json) {
    std::cout << r->body << (r->body.back() == '\n' ? "" : "\n");
    return 0;
  }
  boost::system::error_code ec;
  json::value v = json::parse(r->body, ec);
  if (ec || !v.is_object()) {
    std::cout << r->body;
    return 0;
  }
  auto& o = v.as_object();
  if (o.contains("items") && o.at("items").is_array()) {
    PrintTable(o.at("items").as_array(), cols);
    if (o.contains("next_cursor") && o.at("next_cursor").is_string()) {
      std::cout << "(more: --cursor " << o.at("next_cursor").get_string() << ")\n";
    }
  } else {
    PrintObject(o);
  }
  return 0;
}

// The signed-in user's id.
StatusOr<std::string> MyUserId() {
  Client client(LoadCredentials());
  auto r = client.Call("GET", "/api/v1/me");
  if (!r.ok()) return r.status();
  if (r->status != 200) return Unavailable(ErrorLine(*r));
  boost::system::error_code ec;
  json::value v = json::parse(r->body, ec);
  const json::value* id = ec || !v.is_object() ? nullptr : v.as_object().if_contains("id");
  if (id == nullptr || !id->is_string()) return Internal("the server did not say who you are");
  return std::string(id->get_string());
}

std::string PageQuery(int limit, const std::string& cursor) {
  std::string q = fmt::format("?limit={}", limit);
  if (!cursor.empty()) q += "&cursor=" + cursor;
  return q;
}

std::string ReadPassword(bool from_stdin) {
  std::string pw;
  if (!from_stdin && isatty(STDIN_FILENO)) {
    std::cerr << "Password: ";
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, pw);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  } else {
    std::getline(std::cin, pw);
  }
  return pw;
}

int Login(const Output& out, const std::string& url, std::string token,
          const std::string& token_file, const std::string& username, bool password_stdin) {
  Credentials creds = LoadCredentials();
  if (!url.empty()) creds.url = url;
  if (!token_file.empty()) {
    FILE* f = fopen(token_file.c_str(), "r");
    if (!f) return Fail(fmt::format("cannot read {}", token_file));
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    token.assign(buf, n);
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  }
  if (!username.empty()) {
    std::string pw = ReadPassword(password_stdin);
    Client anon(Credentials{creds.url, ""});
    auto r = anon.Call("POST", "/api/v1/login",
                       json::serialize(json::object{{"username", username}, {"password", pw}}));
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return Fail(ErrorLine(*r));
    std::string cookie = r->headers["set-cookie"];
    cookie = cookie.substr(0, cookie.find(';'));
    json::value v = json::parse(r->body);
    std::string csrf(v.at("csrf_token").get_string());
    char host[256] = "cli";
    gethostname(host, sizeof(host) - 1);
    auto t = anon.Call("POST", "/api/v1/tokens",
                       json::serialize(json::object{{"name", fmt::format("cli on {}", host)},
                                                    {"scopes", json::array{"*"}},
                                                    {"expires_in_days", 30}}),
                       {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
    if (!t.ok()) return Fail(t.status().message());
    if (t->status != 201) return Fail(ErrorLine(*t));
    token = std::string(json::parse(t->body).at("secret").get_string());
    (void)anon.Call("POST", "/api/v1/logout", std::nullopt,
                    {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  }
  if (token.empty()) return Fail("give --token, --token-file or --username");
  creds.token = token;
  Client client(creds);
  auto me = client.Call("GET", "/api/v1/me");
  if (!me.ok()) return Fail(me.status().message());
  if (me->status != 200) return Fail(ErrorLine(*me));
  Status s = SaveCredentials(creds);
  if (!s.ok()) return Fail(s.message());
  json::value v = json::parse(me->body);
  if (out.json) {
    PrintJson(json::object{{"url", creds.url}, {"user", v}, {"saved_in", CredentialsPath()}});
    return 0;
  }
  std::cout << "logged in to " << creds.url << " as " << Str(v.at("username")) << " (saved in "
            << CredentialsPath() << ")\n";
  return 0;
}

}  // namespace

void AddClientCommands(CLI::App& app, const Output* out, int* exit_code) {
  auto common = std::make_shared<Common>();
  common->out = out;
  common->exit_code = exit_code;
  auto set = [exit_code](int code) { *exit_code = code; };

  // login / logout / whoami
  {
    auto* cmd = app.add_subcommand("login", "Save credentials for the other commands");
    auto o =
        std::make_shared<std::tuple<std::string, std::string, std::string, std::string, bool>>();
    cmd->add_option("--url", std::get<0>(*o), "Server URL (default: $OPENLAB_URL or saved)");
    cmd->add_option("--token", std::get<1>(*o), "An API token");
    cmd->add_option("--token-file", std::get<2>(*o), "Read the API token from a file");
    cmd->add_option("--username,-u", std::get<3>(*o), "Log in with a password instead");
    cmd->add_flag("--password-stdin", std::get<4>(*o), "Read the password from standard input");
    cmd->callback([o, out, set] {
      set(Login(*out, std::get<0>(*o), std::get<1>(*o), std::get<2>(*o), std::get<3>(*o),
                std::get<4>(*o)));
    });
  }
  app.add_subcommand("logout", "Forget the saved credentials")->callback([out, set] {
    (void)RemoveCredentials();
    if (out->json) {
      PrintJson(json::object{{"logged_out", true}});
    } else {
      std::cout << "logged out\n";
    }
    set(0);
  });
  app.add_subcommand("whoami", "Show the signed-in user")->callback([common, set] {
    set(Run(*common, "GET", "/api/v1/me", std::nullopt));
  });

  // org
  {
    auto* org = app.add_subcommand("org", "Organisations");
    org->require_subcommand(1);
    auto page = std::make_shared<std::pair<int, std::string>>(50, "");
    auto* ls = org->add_subcommand("ls", "List organisations");
    ls->add_option("--limit", page->first)->check(CLI::Range(1, 500));
    ls->add_option("--cursor", page->second);
    ls->callback([common, page, set] {
      set(Run(*common, "GET", "/api/v1/orgs" + PageQuery(page->first, page->second), std::nullopt,
              {"id", "name", "kind", "region", "display_name"}));
    });
    auto args = std::make_shared<std::map<std::string, std::string>>();
    auto* create = org->add_subcommand("create", "Onboard an organisation (operators)");
    create->add_option("name", (*args)["name"], "Short name")->required();
    create->add_option("--kind", (*args)["kind"], "company, startup, research_institute, ...")
        ->required();
    create->add_option("--region", (*args)["region"], "Home region, e.g. KR-29")->required();
    create->add_option("--display-name", (*args)["display_name"]);
    create->add_option("--admin", (*args)["admin"], "First org admin (default: you)");
    create->callback([common, args, set] {
      json::object b;
      for (auto& [k, v] : *args) {
        if (!v.empty()) b[k] = v;
      }
      set(Run(*common, "POST", "/api/v1/orgs", b));
    });
    auto id = std::make_shared<std::string>();
    auto* show = org->add_subcommand("show", "Show an organisation");
    show->add_option("org", *id, "Organisation id or name")->required();
    show->callback(
        [common, id, set] { set(Run(*common, "GET", "/api/v1/orgs/" + *id, std::nullopt)); });
    auto m = std::make_shared<std::tuple<std::string, std::string, std::string>>();
    auto* members = org->add_subcommand("members", "List an organisation's members");
    members->add_option("org", std::get<0>(*m))->required();
    members->callback([common, m, set] {
      set(Run(*common, "GET", "/api/v1/orgs/" + std::get<0>(*m) + "/members?limit=500",
              std::nullopt, {"user_id", "username", "role"}));
    });
    auto* add = org->add_subcommand("add-member", "Add a member to an organisation");
    add->add_option("org", std::get<0>(*m))->required();
    add->add_option("user", std::get<1>(*m), "User id or username")->required();
    std::get<2>(*m) = "member";
    add->add_option("--role", std::get<2>(*m), "org_admin or member");
    add->callback([common, m, set] {
      set(Run(*common, "PUT", "/api/v1/orgs/" + std::get<0>(*m) + "/members/" + std::get<1>(*m),
              json::object{{"role", std::get<2>(*m)}}));
    });
    auto* rm = org->add_subcommand("rm-member", "Remove a member from an organisation");
    rm->add_option("org", std::get<0>(*m))->required();
    rm->add_option("user", std::get<1>(*m))->required();
    rm->callback([common, m, set] {
      set(Run(*common, "DELETE", "/api/v1/orgs/" + std::get<0>(*m) + "/members/" + std::get<1>(*m),
              std::nullopt));
    });
  }

  // project
  {
    auto* prj = app.add_subcommand("project", "Projects");
    prj->require_subcommand(1);
    auto f = std::make_shared<std::map<std::string, std::string>>();
    auto* ls = prj->add_subcommand("ls", "List projects you can see");
    ls->add_option("--org", (*f)["ls_org"], "Only this organisation's (id)");
    ls->callback([common, f, set] {
      std::string q = "?limit=500";
      if (!(*f)["ls_org"].empty()) q += "&org_id=" + (*f)["ls_org"];
      set(Run(*common, "GET", "/api/v1/projects" + q, std::nullopt,
              {"id", "org_id", "name", "status", "title"}));
    });
    auto* create = prj->add_subcommand("create", "Start a project");
    create->add_option("name", (*f)["name"], "Short name")->required();
    create->add_option("--org", (*f)["org_id"], "Organisation id or name")->required();
    create->add_option("--title", (*f)["title"]);
    create->add_option("--description", (*f)["description"]);
    create->add_option("--pi", (*f)["pi"], "PI (default: you)");
    create->callback([common, f, set] {
      json::object b;
      for (const char* k : {"name", "org_id", "title", "description", "pi"}) {
        if (!(*f)[k].empty()) b[k] = (*f)[k];
      }
      set(Run(*common, "POST", "/api/v1/projects", b));
    });
    auto* show = prj->add_subcommand("show", "Show a project");
    show->add_option("project", (*f)["show"])->required();
    show->callback([common, f, set] {
      set(Run(*common, "GET", "/api/v1/projects/" + (*f)["show"], std::nullopt));
    });
  }

  // member (of projects)
  {
    auto* mem = app.add_subcommand("member", "Project members");
    mem->require_subcommand(1);
    auto m = std::make_shared<std::tuple<std::string, std::string, std::string>>();
    std::get<2>(*m) = "member";
    auto* ls = mem->add_subcommand("ls", "List a project's members");
    ls->add_option("project", std::get<0>(*m))->required();
    ls->callback([common, m, set] {
      set(Run(*common, "GET", "/api/v1/projects/" + std::get<0>(*m) + "/members?limit=500",
              std::nullopt, {"user_id", "username", "role"}));
    });
    auto* add = mem->add_subcommand("add", "Invite a member (PI and co-PIs)");
    add->add_option("project", std::get<0>(*m))->required();
    add->add_option("user", std::get<1>(*m), "User id or username")->required();
    add->add_option("--role", std::get<2>(*m), "pi, co_pi, member or student");
    add->callback([common, m, set] {
      set(Run(*common, "PUT", "/api/v1/projects/" + std::get<0>(*m) + "/members/" + std::get<1>(*m),
              json::object{{"role", std::get<2>(*m)}}));
    });
    auto* rm = mem->add_subcommand("rm", "Remove a member (PI and co-PIs)");
    rm->add_option("project", std::get<0>(*m))->required();
    rm->add_option("user", std::get<1>(*m))->required();
    rm->callback([common, m, set] {
      set(Run(*common, "DELETE",
              "/api/v1/projects/" + std::get<0>(*m) + "/members/" + std::get<1>(*m), std::nullopt));
    });
  }

  // token
  {
    auto* tok = app.add_subcommand("token", "API tokens");
    tok->require_subcommand(1);
    tok->add_subcommand("ls", "List your tokens")->callback([common, set] {
      set(Run(*common, "GET", "/api/v1/tokens?limit=500", std::nullopt,
              {"id", "name", "scopes", "expires_at", "revoked_at"}));
    });
    auto t =
        std::make_shared<std::tuple<std::string, std::vector<std::string>, int, std::string>>();
    std::get<2>(*t) = 0;
    auto* create = tok->add_subcommand("create", "Create a token; its secret is shown once");
    create->add_option("--name", std::get<0>(*t))->required();
    create->add_option("--scope", std::get<1>(*t), "e.g. projects:read (repeat)")->required();
    create->add_option("--expires-in-days", std::get<2>(*t))->check(CLI::Range(1, 3650));
    create->callback([common, t, set] {
      json::array scopes;
      for (auto& s : std::get<1>(*t)) scopes.emplace_back(s);
      json::object b{{"name", std::get<0>(*t)}, {"scopes", scopes}};
      if (std::get<2>(*t) > 0) b["expires_in_days"] = std::get<2>(*t);
      set(Run(*common, "POST", "/api/v1/tokens", b));
    });
    auto* revoke = tok->add_subcommand("revoke", "Revoke a token");
    revoke->add_option("id", std::get<3>(*t))->required();
    revoke->callback([common, t, set] {
      set(Run(*common, "DELETE", "/api/v1/tokens/" + std::get<3>(*t), std::nullopt));
    });
  }

  // user
  {
    auto* usr = app.add_subcommand("user", "User accounts");
    usr->require_subcommand(1);
    usr->add_subcommand("ls", "List users (operators, auditors)")->callback([common, set] {
      set(Run(*common, "GET", "/api/v1/users?limit=500", std::nullopt,
              {"id", "username", "email", "platform_roles", "disabled"}));
    });
    auto u = std::make_shared<
        std::tuple<std::string, std::string, std::string, std::vector<std::string>, bool>>();
    auto* create = usr->add_subcommand("create", "Create a user account (operators)");
    create->add_option("username", std::get<0>(*u))->required();
    create->add_option("--email", std::get<1>(*u))->required();
    create->add_option("--display-name", std::get<2>(*u));
    create->add_option("--role", std::get<3>(*u), "operator, reviewer or auditor");
    create->add_flag("--password-stdin", std::get<4>(*u), "Set a password read from stdin");
    create->callback([common, u, set] {
      json::object b{{"username", std::get<0>(*u)}, {"email", std::get<1>(*u)}};
      if (!std::get<2>(*u).empty()) b["display_name"] = std::get<2>(*u);
      if (!std::get<3>(*u).empty()) {
        json::array roles;
        for (auto& r : std::get<3>(*u)) roles.emplace_back(r);
        b["platform_roles"] = roles;
      }
      if (std::get<4>(*u)) b["password"] = ReadPassword(true);
      set(Run(*common, "POST", "/api/v1/users", b));
    });
    auto* show = usr->add_subcommand("show", "Show a user");
    show->add_option("user", std::get<0>(*u))->required();
    show->callback([common, u, set] {
      set(Run(*common, "GET", "/api/v1/users/" + std::get<0>(*u), std::nullopt));
    });
  }

  // alloc (compute allocations)
  {
    auto* alc = app.add_subcommand("alloc", "Compute allocations (GPU-hours, CPU-hours)");
    alc->require_subcommand(1);
    auto a = std::make_shared<std::map<std::string, std::string>>();
    auto hours = std::make_shared<double>(0);
    auto* ls = alc->add_subcommand("ls", "A project's allocations and balances");
    ls->add_option("project", (*a)["ls"])->required();
    ls->callback([common, a, set] {
      set(Run(*common, "GET", "/api/v1/projects/" + (*a)["ls"] + "/allocations", std::nullopt,
              {"id", "resource", "granted_hours", "used_hours", "held_hours", "left_hours", "state",
               "expires_at"}));
    });
    auto* grant = alc->add_subcommand("grant", "Grant compute to a project (operators)");
    grant->add_option("project", (*a)["project"])->required();
    grant->add_option("--resource", (*a)["resource"], "gpu, gpu:<TYPE> (e.g. gpu:H100) or cpu")
        ->required();
    grant->add_option("--hours", *hours, "GPU-hours or CPU-core-hours")->required();
    grant->add_option("--expires", (*a)["expires_at"], "RFC 3339 UTC, e.g. 2027-06-30T00:00:00Z")
        ->required();
    grant->add_option("--starts", (*a)["starts_at"], "RFC 3339 UTC (default: now)");
    grant->add_option("--note", (*a)["note"]);
    grant->callback([common, a, hours, set] {
      json::object b{
          {"resource", (*a)["resource"]}, {"hours", *hours}, {"expires_at", (*a)["expires_at"]}};
      if (!(*a)["starts_at"].empty()) b["starts_at"] = (*a)["starts_at"];
      if (!(*a)["note"].empty()) b["note"] = (*a)["note"];
      set(Run(*common, "POST", "/api/v1/projects/" + (*a)["project"] + "/allocations", b));
    });
    auto* adjust = alc->add_subcommand("adjust", "Add or take back hours (operators)");
    adjust->add_option("allocation", (*a)["allocation"])->required();
    adjust->add_option("--hours", *hours, "positive adds, negative takes back")->required();
    adjust->add_option("--reason", (*a)["reason"])->required();
    adjust->callback([common, a, hours, set] {
      set(Run(*common, "POST", "/api/v1/allocations/" + (*a)["allocation"] + "/adjustments",
              json::object{{"hours", *hours}, {"reason", (*a)["reason"]}}));
    });
    auto* ledger = alc->add_subcommand("ledger", "An allocation's ledger");
    ledger->add_option("allocation", (*a)["ledger"])->required();
    ledger->callback([common, a, set] {
      set(Run(*common, "GET", "/api/v1/allocations/" + (*a)["ledger"] + "/ledger?limit=500",
              std::nullopt,
              {"at", "kind", "available_delta_hours", "held_delta_hours", "used_delta_hours",
               "reason", "actor"}));
    });
  }

  // job
  {
    auto* job = app.add_subcommand("job", "Jobs: submit, list, show, cancel");
    job->require_subcommand(1);
    struct SubmitArgs {
      std::string project, name, gpu_type, job_class, after, workdir, script_file, time_limit;
      int gpus = 0, cpus = 1, array = 1;
      int64_t memory_mb = 0;
      std::vector<std::string> env, command, data;
    };
    auto a = std::make_shared<SubmitArgs>();
    auto* submit = job->add_subcommand(
        "submit", "Submit a job: openlab job submit --project P -- CMD ARGS...");
    submit->add_option("--project", a->project, "Project id")->required();
    submit->add_option("--name", a->name, "Job name (default: the command)");
    submit->add_option("--gpus", a->gpus, "GPUs (default 0)")->check(CLI::Range(0, 4096));
    submit->add_option("--gpu-type", a->gpu_type, "Accelerator type, e.g. H100");
    submit->add_option("--cpus", a->cpus, "CPU cores (default 1)")->check(CLI::Range(1, 4096));
    submit->add_option("--mem-mb", a->memory_mb, "Memory limit in MiB");
    submit->add_option("--time-limit", a->time_limit, "Seconds, or 30m, 4h, 2d (default 1h)");
    submit->add_option("--class", a->job_class, "standard or opportunistic");
    submit->add_option("--after", a->after, "Start after this job completes");
    submit->add_option("--array", a->array, "Submit N copies")->check(CLI::Range(1, 1000));
    submit->add_option("--env", a->env, "KEY=VALUE (repeat)");
    submit->add_option("--workdir", a->workdir, "Relative to the project's space");
    submit->add_option("--script", a->script_file, "Run this bash script instead of a command");
    submit->add_option("--data", a->data,
                       "AS=DATASET_ID[@VERSION] (repeat): the job reads it read-only at "
                       "$OPENLAB_DATA_<AS>");
    submit->add_option("command", a->command, "The command and its arguments (after --)");
    submit->callback([common, a, set] {
      json::object b{{"project_id", a->project}};
      if (!a->script_file.empty()) {
        std::ifstream in(a->script_file);
        if (!in) return set(Fail("cannot read " + a->script_file));
        std::stringstream ss;
        ss << in.rdbuf();
        b["script"] = ss.str();
      } else {
        if (a->command.empty()) return set(Fail("give a command after -- or --script FILE"));
        json::array cmd;
        for (auto& c : a->command) cmd.emplace_back(c);
        b["command"] = cmd;
      }
      b["name"] =
          !a->name.empty() ? a->name : (!a->command.empty() ? a->command[0] : a->script_file);
      if (a->gpus > 0) b["gpus"] = a->gpus;
      if (!a->gpu_type.empty()) b["gpu_type"] = a->gpu_type;
      b["cpus"] = a->cpus;
      if (a->memory_mb > 0) b["memory_mb"] = a->memory_mb;
      if (!a->time_limit.empty()) {
        const std::string& t = a->time_limit;
        char unit = t.back();
        int64_t mult = unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 1;
        std::string digits =
            std::isdigit(static_cast<unsigned char>(unit)) ? t : t.substr(0, t.size() - 1);
        if (digits.empty() || digits.size() > 12 ||
            !std::all_of(digits.begin(), digits.end(),
                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
          return set(Fail("--time-limit must be seconds or a number with m, h or d"));
        }
        b["time_limit_s"] = std::stoll(digits) * mult;
      }
      if (!a->job_class.empty()) b["class"] = a->job_class;
      if (!a->after.empty()) b["depends_on"] = a->after;
      if (a->array > 1) b["array"] = a->array;
      if (!a->workdir.empty()) b["workdir"] = a->workdir;
      if (!a->env.empty()) {
        json::object env;
        for (auto& kv : a->env) {
          auto eq = kv.find('=');
          if (eq == std::string::npos) return set(Fail("--env must be KEY=VALUE"));
          env[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
        b["env"] = env;
      }
      if (!a->data.empty()) {
        json::array inputs;
        for (const auto& d : a->data) {
          auto eq = d.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == d.size()) {
            return set(Fail("--data must be AS=DATASET_ID[@VERSION]"));
          }
          std::string ref = d.substr(eq + 1);
          json::object in{{"as", d.substr(0, eq)}};
          auto at = ref.find('@');
          in["dataset"] = ref.substr(0, at);
          if (at != std::string::npos) in["version"] = ref.substr(at + 1);
          inputs.push_back(std::move(in));
        }
        b["data"] = std::move(inputs);
      }
      set(Run(*common, "POST", "/api/v1/jobs", b));
    });
    auto f = std::make_shared<std::map<std::string, std::string>>();
    auto* ls = job->add_subcommand("ls", "List jobs you can see, the newest first");
    ls->add_option("--project", (*f)["project_id"]);
    ls->add_option("--state", (*f)["state"], "queued, running, completed, ...");
    auto mine = std::make_shared<bool>(false);
    ls->add_flag("--mine", *mine, "Only the jobs you submitted");
    ls->callback([common, f, set, mine] {
      std::string q = "?limit=500&order=newest";
      if (*mine) {
        auto me = MyUserId();
        if (!me.ok()) return set(Fail(me.status().message()));
        (*f)["user_id"] = *me;
      }
      for (const char* k : {"project_id", "state", "user_id"}) {
        if (!(*f)[k].empty()) q += std::string("&") + k + "=" + (*f)[k];
      }
      set(Run(*common, "GET", "/api/v1/jobs" + q, std::nullopt,
              {"id", "name", "state", "reason", "gpus", "gpu_type", "submitted_at"}));
    });
    auto* show = job->add_subcommand("show", "Show a job, and why it waits");
    show->add_option("job", (*f)["show"])->required();
    show->callback([common, f, set] {
      set(Run(*common, "GET", "/api/v1/jobs/" + (*f)["show"], std::nullopt));
    });
    auto follow = std::make_shared<bool>(false);
    auto* logs = job->add_subcommand("logs", "Print a job's output; -f follows it until it ends");
    logs->add_option("job", (*f)["logs"])->required();
    logs->add_option("--stream", (*f)["stream"], "stdout (default) or stderr");
    logs->add_flag("-f,--follow", *follow, "Keep printing new output until the job ends");
    logs->callback([f, follow, set] {
      Client client(LoadCredentials());
      std::string stream = (*f)["stream"].empty() ? "stdout" : (*f)["stream"];
      int64_t offset = 0;
      for (;;) {
        auto r = client.Call("GET", fmt::format("/api/v1/jobs/{}/logs?stream={}&offset={}",
                                                (*f)["logs"], stream, offset));
        if (!r.ok()) return set(Fail(r.status().message()));
        if (r->status != 200) return set(Fail(ErrorLine(*r)));
        std::cout << r->body << std::flush;
        offset = std::strtoll(r->headers["x-log-offset"].c_str(), nullptr, 10);
        std::string state = r->headers["x-job-state"];
        bool ended = state == "completed" || state == "failed" || state == "cancelled" ||
                     state == "timeout" || state == "node_fail";
        if (!*follow || (ended && r->body.empty())) break;
        if (r->body.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      set(0);
    });
    auto* cancel = job->add_subcommand("cancel", "Cancel a job");
    cancel->add_option("job", (*f)["cancel"])->required();
    cancel->callback([common, f, set] {
      set(Run(*common, "POST", "/api/v1/jobs/" + (*f)["cancel"] + "/cancel", std::nullopt));
    });
  }

  // ops (operator views)
  {
    auto* ops = app.add_subcommand("ops", "Operator views: queue, usage, utilisation, hoarding");
    ops->require_subcommand(1);
    auto o = std::make_shared<std::map<std::string, std::string>>();
    auto period = [o](CLI::App* cmd) {
      cmd->add_option("--since", (*o)["since"], "RFC 3339 UTC (default: 30 days ago)");
      cmd->add_option("--until", (*o)["until"], "RFC 3339 UTC (default: now)");
    };
    auto query = [o](std::initializer_list<const char*> keys) {
      std::string q;
      for (const char* k : keys) {
        if (!(*o)[k].empty()) q += std::string(q.empty() ? "?" : "&") + k + "=" + (*o)[k];
      }
      return q;
    };
    ops->add_subcommand("queue", "Jobs waiting, and why")->callback([common, set] {
      set(Run(*common, "GET", "/api/v1/jobs?state=queued&limit=500", std::nullopt,
              {"id", "project_id", "name", "gpus", "gpu_type", "reason", "submitted_at"}));
    });
    auto* usage =
        ops->add_subcommand("usage", "GPU-hours, CPU-hours and PF-hours by org or project");
    period(usage);
    usage->add_option("--by", (*o)["group_by"], "org (default) or project");
    usage->callback([common, query, set] {
      set(Run(*common, "GET", "/api/v1/ops/usage" + query({"since", "until", "group_by"}),
              std::nullopt,
              {"name", "gpu_hours", "gpu_hours_by_type", "cpu_hours", "pf_hours", "jobs"}));
    });
    auto* util = ops->add_subcommand("utilisation", "Utilisation per accelerator type");
    period(util);
    util->callback([common, query, set] {
      set(Run(*common, "GET", "/api/v1/ops/utilisation" + query({"since", "until"}), std::nullopt,
              {"type", "capacity", "busy_now", "delivered_hours", "utilisation"}));
    });
    ops->add_subcommand("hoarding", "Allocations used far below their pace")
        ->callback([common, set] {
          set(Run(*common, "GET", "/api/v1/ops/hoarding", std::nullopt,
                  {"allocation_id", "project", "resource", "granted_hours", "used_hours", "elapsed",
                   "pace"}));
        });
  }

  // audit
  {
    auto* aud = app.add_subcommand(
        "audit",
        "Read the audit trail, the newest first (operators, auditors); --jsonl exports "
        "it in the order it happened");
    auto a = std::make_shared<std::map<std::string, std::string>>();
    auto jsonl = std::make_shared<bool>(false);
    for (const char* k : {"actor", "action", "object", "since", "until"}) {
      aud->add_option(std::string("--") + k, (*a)[k]);
    }
    aud->add_flag("--jsonl", *jsonl, "Export as JSON lines");
    aud->callback([common, a, jsonl, set] {
      std::string q = *jsonl ? "?format=jsonl" : "?limit=500&order=newest";
      for (auto& [k, v] : *a) {
        if (!v.empty()) q += "&" + k + "=" + v;
      }
      Common c = *common;
      static const Output kRaw{.json = true};  // JSON lines are printed as they come
      if (*jsonl) c.out = &kRaw;
      set(Run(c, "GET", "/api/v1/audit" + q, std::nullopt,
              {"at", "actor", "action", "object", "outcome"}));
    });
  }
}

}  // namespace openlab::cli
