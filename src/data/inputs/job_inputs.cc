#include "data/inputs/job_inputs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "common/fd.h"
#include "common/ids.h"
#include "common/strings.h"
#include "compute/ledger/jobs.h"
#include "data/catalog/datasets.h"
#include "data/catalog/manifest.h"
#include "data/chunks/digest.h"
#include "data/inputs/data_cache.h"
#include "data/service.h"
#include "tenants/tenants.h"

namespace openlab::data {

using store::Row;
using store::Tx;

bool IsValidInputName(const std::string& name) {
  if (name.empty() || name.size() > 32 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

StatusOr<JobInput> AuthorizeJobInput(Tx& tx, const std::string& dataset_id,
                                     const std::string& version_ref, const std::string& name,
                                     const std::string& user_id, const std::string& project_id,
                                     int64_t now) {
  if (!IsValidInputName(name)) {
    return InvalidArgument(fmt::format(
        "data input name '{}' must be 1-32 characters of a-z, 0-9 and _, starting with a letter",
        name.substr(0, 40)));
  }
  // One answer for "no such dataset" and "not yours to see": ids of others' data stay unknown.
  auto unknown = [&] {
    return InvalidArgument(fmt::format("data input '{}': no dataset '{}' that you can use", name,
                                       dataset_id.substr(0, 64)));
  };
  if (!IsValidId(dataset_id)) return unknown();
  auto found = GetDataset(tx, dataset_id);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) return unknown();
    return found.status();
  }
  const Dataset& d = *found;
  ASSIGN_OR_RETURN(DatasetAccess a, AccessOf(tx, d, user_id, now));
  if (!a.meta_visible) return unknown();
  // The owners' own jobs: a job of the owning project, or, for an organisation's dataset, a job
  // of one of its projects submitted by one of its members.
  bool owner = !d.project_id.empty() && d.project_id == project_id;
  if (d.project_id.empty() && a.org_role.has_value()) {
    ASSIGN_OR_RETURN(auto p, tenants::GetProject(tx, project_id));
    owner = p.org_id == d.org_id;
  }
  bool sealed = false;
  if (d.access_level == "hidden") {
    return PermissionDenied(fmt::format(
        "data input '{}': '{}' is hidden validation data; only the scorer reads it", name, d.name));
  } else if (d.access_level == "restricted") {
    if (!owner) {
      // An approved, unexpired request of this project that names the submitter.
      ASSIGN_OR_RETURN(auto rows,
                       tx.Query("SELECT 1 FROM access_grants g JOIN access_requests r ON r.id = "
                                "g.request_id WHERE g.dataset_id = $1 AND g.user_id = $2 AND "
                                "g.expires_at > $3 AND r.project_id = $4 AND r.state = "
                                "'approved'",
                                {d.id, user_id, now, project_id}));
      if (rows.empty()) {
        return PermissionDenied(fmt::format(
            "data input '{}': '{}' is restricted; a job reads it only with an approved access "
            "request of this project that names you as an analyst",
            name, d.name));
      }
      sealed = true;
    }
  } else if (!owner && !a.data_audience) {
    // Downloadable levels: a job reads what its submitter may download.
    return PermissionDenied(fmt::format(
        "data input '{}': the {} dataset '{}' does not admit you; ask its stewards for access",
        name, d.access_level, d.name));
  }
  auto v = ResolveVersion(tx, d.id, version_ref.empty() ? "latest" : version_ref);
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) {
      return InvalidArgument(fmt::format("data input '{}': dataset '{}' has no version '{}'", name,
                                         d.name, version_ref.empty() ? "latest" : version_ref));
    }
    return v.status();
  }
  return JobInput{"", name, d.id, v->id, d.access_level, OwnerDomain(d), sealed};
}

Status CheckJobInputs(const std::vector<JobInput>& inputs) {
  if (inputs.size() > static_cast<size_t>(kMaxJobInputs)) {
    return InvalidArgument(fmt::format("a job reads at most {} datasets", kMaxJobInputs));
  }
  std::set<std::string> names, sealed_owners;
  for (const auto& in : inputs) {
    if (!names.insert(in.name).second) {
      return InvalidArgument(fmt::format("data input name '{}' is used twice", in.name));
    }
    if (in.sealed) sealed_owners.insert(in.owner);
  }
  if (sealed_owners.size() > 1) {
    return InvalidArgument(
        "a job may read restricted data of one owner only (one set of stewards reviews what "
        "leaves it); split the work into jobs per owner");
  }
  return Status::Ok();
}

Status InsertJobInputs(Tx& tx, const std::vector<std::string>& job_ids,
                       const std::vector<JobInput>& inputs) {
  for (const auto& job : job_ids) {
    for (const auto& in : inputs) {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO job_inputs (job_id, name, dataset_id, version_id, "
                              "access_level, domain, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                              {job, in.name, in.dataset_id, in.version_id, in.access_level,
                               in.owner, int64_t{in.sealed ? 1 : 0}})
                          .status());
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<JobInput>> ListJobInputs(Tx& tx, const std::string& job_id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT job_id, name, dataset_id, version_id, access_level, domain, "
                            "sealed FROM job_inputs WHERE job_id = $1 ORDER BY name",
                            {job_id}));
  std::vector<JobInput> out;
  for (const Row& r : rows) {
    out.push_back(
        JobInput{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5), r.Int(6) != 0});
  }
  return out;
}

StatusOr<bool> IsSealedJob(Tx& tx, const std::string& job_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT 1 FROM job_inputs WHERE job_id = $1 AND sealed = 1 LIMIT 1", {job_id}));
  return !rows.empty();
}

StatusOr<PreparedJobData> PrepareJobData(DataService& svc, DataCache* cache,
                                         const std::string& job_id, const std::string& user_id,
                                         const std::string& project_id, const std::string& job_dir,
                                         int64_t now) {
  PreparedJobData out;
  std::vector<JobInput> inputs;
  RETURN_IF_ERROR(svc.db()->Read([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(inputs, ListJobInputs(tx, job_id));
    for (const auto& in : inputs) {
      RETURN_IF_ERROR(
          AuthorizeJobInput(tx, in.dataset_id, in.version_id, in.name, user_id, project_id, now)
              .status());
    }
    return Status::Ok();
  }));
  for (const auto& in : inputs) {
    std::string dir;
    if (cache != nullptr) {
      auto entry = cache->Acquire(in.dataset_id, in.version_id, job_dir);
      if (!entry.ok()) {
        cache->Release(job_dir);  // the entries taken for the inputs before this one
        return entry.status();
      }
      dir = entry->path;
    } else {
      dir = job_dir + "/data/" + in.name;
      RETURN_IF_ERROR(svc.Materialize(in.dataset_id, in.version_id, dir).status());
    }
    out.inputs.emplace_back(in.name, dir);
    out.sealed = out.sealed || in.sealed;
    out.restricted = out.restricted || in.access_level == "restricted";
  }
  return out;
}

void RemoveReadOnlyTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(root, ec)) return;
  // Directories made read-only (0555) must be writable again for their entries to go.
  ::chmod(root.c_str(), 0755);
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
  }
  fs::remove_all(root, ec);
}

void ReleaseJobData(const std::string& job_dir, DataCache* cache) {
  RemoveReadOnlyTree(job_dir + "/data");
  if (cache != nullptr) cache->Release(job_dir);
}

// ---- exports

namespace {

constexpr const char* kExportCols =
    "id, job_id, project_id, dataset_id, user_id, purpose, state, reason, decided_by, "
    "created_at, decided_at";

StatusOr<ExportRequest> ExportFromRow(Tx& tx, const Row& r) {
  ExportRequest e{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5),
                  r.Str(6), r.Str(7), r.Str(8), {},       r.Int(9), r.Int(10)};
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT path, sha256, size FROM export_files WHERE "
                                       "export_id = $1 ORDER BY seq",
                                       {e.id}));
  for (const Row& f : rows) e.files.push_back(ExportFile{f.Str(0), f.Str(1), f.Int(2)});
  return e;
}

// Opens `rel` under the directory `root` without following a symbolic link anywhere on the way
// (nor `root` itself, which a job could have replaced by one), and only if it is a regular file
// with one link: a hard link the job made is a second name, inside its directory, for a file from
// anywhere else it could reach (the operator's token, another job's output).
StatusOr<int> OpenBeneath(const std::string& root, const std::string& rel) {
  int dir = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0 && (errno == ELOOP || errno == ENOTDIR)) {
    return InvalidArgument(
        fmt::format("'{}' cannot be exported: the job's directory was replaced by a link", rel));
  }
  if (dir < 0) return ErrnoStatus("cannot open the job's directory", errno);
  std::vector<std::string> parts = Split(rel, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    // O_NONBLOCK: a FIFO left by the job must not hold the request up (it is refused below).
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (last ? O_NONBLOCK : O_DIRECTORY);
    int next = ::openat(dir, parts[i].c_str(), flags);
    int err = errno;
    ::close(dir);
    if (next < 0) {
      if (err == ELOOP || err == ENOTDIR) {
        return InvalidArgument(fmt::format("'{}' is not a regular file of the job", rel));
      }
      if (err == ENOENT) return InvalidArgument(fmt::format("the job has no file '{}'", rel));
      return ErrnoStatus("cannot open '" + rel + "'", err);
    }
    dir = next;
  }
  struct stat st {};
  if (::fstat(dir, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(dir);
    return InvalidArgument(fmt::format("'{}' is not a regular file of the job", rel));
  }
  if (st.st_nlink != 1) {
    ::close(dir);
    return InvalidArgument(
        fmt::format("'{}' cannot be exported: it has {} hard links, and only a file with one name, "
                    "made in the job's directory, may leave; copy the content to a new file",
                    rel, static_cast<uint64_t>(st.st_nlink)));
  }
  // A regular file: plain blocking reads from here.
  int fl = ::fcntl(dir, F_GETFL);
  if (fl >= 0) ::fcntl(dir, F_SETFL, fl & ~O_NONBLOCK);
  return dir;
}

// Copies the open file `in` to `dest` (created, 0600), returning its size and SHA-256.
StatusOr<ExportFile> CopyOut(int in, const std::string& dest, int64_t budget) {
  Fd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return ErrnoStatus("cannot create " + dest, errno);
  Sha256Stream sha;
  std::string buf(1 << 20, '\0');
  ExportFile f;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read an export file", errno);
    if (n == 0) break;
    f.size += n;
    if (f.size > budget) {
      return InvalidArgument(
          fmt::format("an export holds at most {} MiB in all", kMaxExportBytes >> 20));
    }
    sha.Update(buf.data(), static_cast<size_t>(n));
    RETURN_IF_ERROR(
        WriteAll(out.get(), std::string_view(buf.data(), static_cast<size_t>(n)), dest));
  }
  if (::fsync(out.get()) != 0) return ErrnoStatus("cannot sync " + dest, errno);
  f.sha256 = ToHex(sha.Finish());
  return f;
}

}  // namespace

std::string ExportFilePath(const std::string& exports_root, const std::string& export_id,
                           size_t index) {
  return fmt::format("{}/{}/{}", exports_root, export_id, index);
}

StatusOr<ExportDownload> OpenExportFile(Tx& tx, const std::string& exports_root,
                                        const std::string& export_id, const std::string& path,
                                        bool steward) {
  ASSIGN_OR_RETURN(auto e, GetExportRequest(tx, export_id));
  if (!steward && e.state != "approved") {
    return PermissionDenied(
        fmt::format("export {} is {}: its files leave only once a steward of the data approves it",
                    e.id, e.state));
  }
  for (size_t i = 0; i < e.files.size(); ++i) {
    if (e.files[i].path != path) continue;
    std::string file = ExportFilePath(exports_root, e.id, i);
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Internal(fmt::format("the copy of '{}' is missing", path));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size != e.files[i].size) {
      ::close(fd);
      return Internal(fmt::format("the copy of '{}' has changed since it was requested", path));
    }
    return ExportDownload{FdSource(fd, "an export file"), static_cast<uint64_t>(st.st_size),
                          e.files[i].sha256};
  }
  return NotFound(fmt::format("export {} holds no file '{}'", e.id, path.substr(0, 200)));
}

StatusOr<ExportRequest> CreateExportRequest(Tx& tx, const std::string& job_id,
                                            const std::string& user_id,
                                            const std::vector<std::string>& paths,
                                            const std::string& purpose, const std::string& job_dir,
                                            const std::string& work_dir,
                                            const std::string& exports_root, int64_t now) {
  if (paths.empty() || paths.size() > static_cast<size_t>(kMaxExportFiles)) {
    return InvalidArgument(fmt::format("name 1 to {} files to export", kMaxExportFiles));
  }
  if (purpose.empty() || purpose.size() > 5000) {
    return InvalidArgument("say what the files are and why they may leave (purpose, 1-5000 bytes)");
  }
  std::set<std::string> seen;
  for (const auto& p : paths) {
    // A path of the work directory: the rules of a path inside a dataset.
    if (p != "stdout" && p != "stderr") RETURN_IF_ERROR(ValidateDatasetPath(p));
    if (!seen.insert(p).second) return InvalidArgument(fmt::format("'{}' is named twice", p));
  }
  ASSIGN_OR_RETURN(auto inputs, ListJobInputs(tx, job_id));
  std::string dataset_id;
  for (const auto& in : inputs) {
    if (in.sealed) {
      dataset_id = in.dataset_id;
      break;
    }
  }
  if (dataset_id.empty()) {
    return Conflict(
        "this job read no restricted data of another owner; its outputs are already "
        "its project's");
  }
  ExportRequest e;
  e.id = NewId("exp");
  e.job_id = job_id;
  e.dataset_id = dataset_id;
  e.user_id = user_id;
  e.purpose = purpose;
  e.state = "pending";
  e.created_at = now;
  auto job = compute::GetJob(tx, job_id);
  if (job.status().code() == StatusCode::kNotFound) return NotFound("no such job");
  if (!job.ok()) return job.status();
  e.project_id = job->project_id;
  std::error_code ec;
  std::string dir = exports_root + "/" + e.id;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", dir, ec.message()));
  int64_t left = kMaxExportBytes;
  for (size_t i = 0; i < paths.size(); ++i) {
    bool stream = paths[i] == "stdout" || paths[i] == "stderr";
    auto fd = OpenBeneath(stream ? job_dir : work_dir, paths[i]);
    if (!fd.ok()) {
      std::filesystem::remove_all(dir, ec);
      return fd.status();
    }
    Fd in(*fd);
    auto copied = CopyOut(in.get(), ExportFilePath(exports_root, e.id, i), left);
    if (!copied.ok()) {
      std::filesystem::remove_all(dir, ec);
      return copied.status();
    }
    copied->path = paths[i];
    left -= copied->size;
    e.files.push_back(*copied);
  }
  RETURN_IF_ERROR(tx.Exec("INSERT INTO exports (id, job_id, project_id, dataset_id, user_id, "
                          "purpose, state, reason, decided_by, created_at, decided_at) VALUES "
                          "($1, $2, $3, $4, $5, $6, 'pending', '', '', $7, 0)",
                          {e.id, e.job_id, e.project_id, e.dataset_id, e.user_id, e.purpose, now})
                      .status());
  for (size_t i = 0; i < e.files.size(); ++i) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO export_files (export_id, seq, path, sha256, size) "
                            "VALUES ($1, $2, $3, $4, $5)",
                            {e.id, static_cast<int64_t>(i), e.files[i].path, e.files[i].sha256,
                             e.files[i].size})
                        .status());
  }
  return e;
}

StatusOr<ExportRequest> GetExportRequest(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows, tx.Query(fmt::format("SELECT {} FROM exports WHERE id = $1", kExportCols), {id}));
  if (rows.empty()) return NotFound("no such export request");
  return ExportFromRow(tx, rows[0]);
}

StatusOr<std::vector<ExportRequest>> ListExportRequests(Tx& tx, const std::string& job_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM exports WHERE job_id = $1 ORDER BY id", kExportCols),
               {job_id}));
  std::vector<ExportRequest> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(auto e, ExportFromRow(tx, r));
    out.push_back(std::move(e));
  }
  return out;
}

StatusOr<std::vector<ExportRequest>> PendingExportRequests(Tx& tx, const Stewardship& s,
                                                           int limit) {
  std::vector<store::Value> params{int64_t{limit}};
  std::string within = StewardedDatasets(s, &params);
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM exports WHERE state = 'pending' "
                                                   "AND {} ORDER BY id DESC LIMIT $1",
                                                   kExportCols, within),
                                       params));
  std::vector<ExportRequest> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(auto e, ExportFromRow(tx, r));
    out.push_back(std::move(e));
  }
  return out;
}

StatusOr<ExportRequest> DecideExportRequest(Tx& tx, const std::string& id,
                                            const std::string& steward, bool approve,
                                            const std::string& reason, int64_t now) {
  if (!approve && reason.empty()) {
    return InvalidArgument("give a reason; the requester sees it");
  }
  if (reason.size() > 2000) return InvalidArgument("reason is longer than 2000 bytes");
  ASSIGN_OR_RETURN(auto e, GetExportRequest(tx, id));
  if (e.state != "pending") return Conflict(fmt::format("the export is already {}", e.state));
  RETURN_IF_ERROR(tx.Exec("UPDATE exports SET state = $1, reason = $2, decided_by = $3, "
                          "decided_at = $4 WHERE id = $5",
                          {std::string(approve ? "approved" : "refused"), reason, steward, now, id})
                      .status());
  return GetExportRequest(tx, id);
}

}  // namespace openlab::data
