#include "data/service.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <unordered_set>

#include "common/fd.h"
#include "data/chunks/digest.h"
#include "data/chunks/file_chunker.h"
#include "data/review/review.h"

namespace openlab::data {

DataService::DataService(store::Database* db, std::unique_ptr<PackStore> packs)
    : db_(db), packs_(std::move(packs)) {}

std::shared_mutex& DataService::DomainLock(const std::string& domain) {
  MutexLock lock(&locks_mu_);
  auto& p = locks_[domain];
  if (!p) p = std::make_unique<std::shared_mutex>();
  return *p;
}

StatusOr<DataService::PutResult> DataService::PutChunks(const Upload& upload,
                                                        const std::string& domain,
                                                        const std::vector<WireChunk>& batch,
                                                        int64_t now) {
  RETURN_IF_ERROR(VerifyChunks(batch));
  PutResult r;
  r.received = static_cast<int64_t>(batch.size());
  std::shared_lock<std::shared_mutex> domain_lock(DomainLock(domain));
  // Which ones the domain lacks (and each only once, even if the batch repeats it).
  std::vector<Digest> ids;
  ids.reserve(batch.size());
  for (const auto& c : batch) ids.push_back(c.id);
  std::vector<Digest> unknown;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(unknown, UnknownChunks(tx, domain, ids));
    return Status::Ok();
  }));
  std::unordered_set<Digest, DigestHash> want(unknown.begin(), unknown.end());
  std::vector<PackStore::NewChunk> fresh;
  std::vector<StoredChunk> known;  // present already: claimed for the upload all the same
  for (const auto& c : batch) {
    if (want.erase(c.id)) {
      fresh.push_back({c.id, c.data});
    } else {
      known.push_back({c.id, {}});
    }
  }
  std::vector<StoredChunk> rows;
  if (!fresh.empty()) {
    ASSIGN_OR_RETURN(auto locs, packs_->Append(domain, fresh));
    for (size_t i = 0; i < fresh.size(); ++i) rows.push_back({fresh[i].id, locs[i]});
  }
  int64_t new_bytes = 0;
  RETURN_IF_ERROR(db_->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Upload u, GetUpload(tx, upload.id));
    ASSIGN_OR_RETURN(new_bytes, RecordChunks(tx, u, domain, rows, now));
    std::vector<Digest> present;
    for (const auto& k : known) present.push_back(k.id);
    ASSIGN_OR_RETURN(auto missing, ClaimPresent(tx, u, domain, present));
    if (!missing.empty()) {
      // Collected between our check and now: it must be sent again.
      return Aborted("a chunk vanished during the upload; send the batch again");
    }
    return Status::Ok();
  }));
  r.stored = static_cast<int64_t>(rows.size());
  r.new_bytes = new_bytes;
  r.duplicates = r.received - r.stored;
  return r;
}

Status DataService::ReadChunk(const std::string& domain, const Digest& id, ChunkLocation loc,
                              std::string* out) {
  Status s;
  {
    std::shared_lock<std::shared_mutex> lock(DomainLock(domain));
    s = packs_->Read(domain, id, loc, out);
  }
  if (s.ok()) return s;
  // The chunk may have moved (pack compaction): look it up again once.
  ChunkLocation now_at;
  Status ls = db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto locs, LookupChunks(tx, domain, {id}));
    now_at = locs[0];
    return Status::Ok();
  });
  if (!ls.ok() || now_at == loc) return s;
  std::shared_lock<std::shared_mutex> lock(DomainLock(domain));
  return packs_->Read(domain, id, now_at, out);
}

Status DataService::ForEachFile(const std::string& dataset_id, const std::string& version_id,
                                const std::function<Status(const FileEntry&)>& fn) {
  std::string after;
  for (;;) {
    std::vector<FileEntry> files;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(files, ListFiles(tx, dataset_id, version_id, after, 500));
      return Status::Ok();
    }));
    for (const FileEntry& f : files) RETURN_IF_ERROR(fn(f));
    if (files.size() < 500) return Status::Ok();
    after = files.back().path;
  }
}

Status DataService::ReadChunks(const std::string& domain, const std::vector<ChunkEntry>& chunks,
                               const std::function<Status(const std::string&)>& sink) {
  std::string buf;
  for (size_t i = 0; i < chunks.size(); i += 256) {
    std::vector<Digest> ids;
    for (size_t k = i; k < chunks.size() && k < i + 256; ++k) ids.push_back(chunks[k].id);
    std::vector<ChunkLocation> locs;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(locs, LookupChunks(tx, domain, ids));
      return Status::Ok();
    }));
    for (size_t k = 0; k < ids.size(); ++k) {
      RETURN_IF_ERROR(ReadChunk(domain, ids[k], locs[k], &buf));
      RETURN_IF_ERROR(sink(buf));
    }
  }
  return Status::Ok();
}

StatusOr<DataService::MaterializeReport> DataService::Materialize(const std::string& dataset_id,
                                                                  const std::string& version_id,
                                                                  const std::string& dest) {
  namespace fs = std::filesystem;
  MaterializeReport rep;
  std::string domain;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto d, GetDataset(tx, dataset_id));
    domain = d.domain;
    return Status::Ok();
  }));
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", dest, ec.message()));
  std::set<std::string> dirs = {dest};
  RETURN_IF_ERROR(ForEachFile(dataset_id, version_id, [&](const FileEntry& f) -> Status {
    std::vector<ChunkEntry> chunks;
    bool quarantined = false;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(quarantined, IsQuarantined(tx, dataset_id, f.sha256));
      if (!quarantined) {
        ASSIGN_OR_RETURN(chunks, FileChunks(tx, dataset_id, version_id, f.path));
      }
      return Status::Ok();
    }));
    if (quarantined) {
      rep.quarantined.push_back(f.path);
      return Status::Ok();
    }
    // Manifest paths are checked on upload; refuse anything that would leave `dest` anyway.
    if (!ValidateDatasetPath(f.path).ok()) {
      return Internal(fmt::format("a stored path is invalid: '{}'", f.path.substr(0, 100)));
    }
    std::string path = dest + "/" + f.path;
    std::string parent = fs::path(path).parent_path().string();
    fs::create_directories(parent, ec);
    if (ec) return Internal(fmt::format("cannot create {}: {}", parent, ec.message()));
    for (std::string p = parent; p.size() > dest.size() && dirs.insert(p).second;
         p = fs::path(p).parent_path().string()) {
    }
    Fd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (out.get() < 0) return ErrnoStatus("cannot create " + path, errno);
    Sha256Stream sha;
    RETURN_IF_ERROR(ReadChunks(domain, chunks, [&](const std::string& bytes) {
      sha.Update(bytes.data(), bytes.size());
      return WriteAll(out.get(), bytes, path);
    }));
    if (ToHex(sha.Finish()) != f.sha256) {
      return Internal(fmt::format("file '{}' of version {} does not hash to its SHA-256", f.path,
                                  version_id.substr(0, 12)));
    }
    if (::fchmod(out.get(), 0444) != 0) return ErrnoStatus("chmod " + path, errno);
    ++rep.files;
    rep.bytes += f.size;
    return Status::Ok();
  }));
  // Directories last (deepest first), so that nothing more can be created in them.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (::chmod(it->c_str(), 0555) != 0) return ErrnoStatus("chmod " + *it, errno);
  }
  return rep;
}

namespace {

class RangeSource : public BodySource {
 public:
  RangeSource(DataService* svc, std::string domain, std::vector<ChunkEntry> chunks,
              std::vector<ChunkLocation> locs, uint64_t skip, uint64_t length)
      : svc_(svc),
        domain_(std::move(domain)),
        chunks_(std::move(chunks)),
        locs_(std::move(locs)),
        skip_(skip),
        left_(length) {}

  bool Read(char* buf, size_t cap, size_t* n, std::string* error) override {
    *n = 0;
    while (*n < cap && left_ > 0) {
      if (pos_ >= buf_.size()) {
        if (next_ >= chunks_.size()) {
          *error = "the file's chunks end before its size";
          return false;
        }
        Status s = svc_->ReadChunk(domain_, chunks_[next_].id, locs_[next_], &buf_);
        if (!s.ok()) {
          *error = s.message();
          return false;
        }
        ++next_;
        pos_ = std::min<uint64_t>(skip_, buf_.size());
        skip_ -= pos_;
        continue;
      }
      size_t take = std::min<uint64_t>({cap - *n, buf_.size() - pos_, left_});
      std::memcpy(buf + *n, buf_.data() + pos_, take);
      pos_ += take;
      *n += take;
      left_ -= take;
    }
    return true;
  }

 private:
  DataService* svc_;
  std::string domain_;
  std::vector<ChunkEntry> chunks_;
  std::vector<ChunkLocation> locs_;
  uint64_t skip_;  // bytes of the first chunk before the range
  uint64_t left_;
  std::string buf_;
  size_t pos_ = 0, next_ = 0;
};

}  // namespace

StatusOr<std::shared_ptr<BodySource>> DataService::OpenRange(store::Tx& tx,
                                                             const std::string& domain,
                                                             const std::vector<ChunkEntry>& chunks,
                                                             uint64_t begin, uint64_t end) {
  std::vector<ChunkEntry> sel;
  std::vector<Digest> ids;
  uint64_t off = 0, skip = 0;
  bool first = true;
  for (const ChunkEntry& c : chunks) {
    uint64_t c_end = off + c.length;
    if (c_end > begin && off < end) {
      if (first) {
        skip = begin - off;
        first = false;
      }
      sel.push_back(c);
      ids.push_back(c.id);
    }
    off = c_end;
    if (off >= end) break;
  }
  ASSIGN_OR_RETURN(auto locs, LookupChunks(tx, domain, ids));
  return std::shared_ptr<BodySource>(std::make_shared<RangeSource>(
      this, domain, std::move(sel), std::move(locs), skip, end - begin));
}

StatusOr<DataService::FsckReport> DataService::Fsck(bool verify_files) {
  FsckReport rep;
  auto problem = [&](std::string p) {
    if (rep.problems.size() < 1000) rep.problems.push_back(std::move(p));
  };
  std::vector<std::string> domains;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(domains, ListDomains(tx));
    return Status::Ok();
  }));
  std::string buf;
  for (const std::string& domain : domains) {
    ++rep.domains;
    std::vector<StoredChunk> chunks;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(chunks, DomainChunks(tx, domain));
      return Status::Ok();
    }));
    std::unordered_set<Digest, DigestHash> indexed;
    for (const StoredChunk& c : chunks) {
      indexed.insert(c.id);
      ++rep.chunks;
      rep.bytes += c.loc.raw_len;
      Status s = ReadChunk(domain, c.id, c.loc, &buf);
      if (!s.ok()) {
        ++rep.corrupt_chunks;
        problem(fmt::format("domain {}: {}", domain, s.message()));
      }
    }
    // Pack records no index row names are harmless (a crash between append and commit, or
    // duplicates left for garbage collection), but damaged ones are worth knowing.
    auto packs = packs_->ListPacks(domain);
    if (packs.ok()) {
      for (uint64_t pack : *packs) {
        ++rep.packs;
        auto recs = packs_->ScanPack(domain, pack);
        if (!recs.ok()) {
          problem(fmt::format("domain {} pack {}: {}", domain, pack, recs.status().message()));
          continue;
        }
        for (const auto& r : *recs) {
          if (!r.ok && !indexed.count(r.id)) ++rep.unindexed_records;
          if (!r.ok) {
            problem(fmt::format("domain {} pack {} offset {}: {}", domain, pack, r.loc.offset,
                                r.problem));
          }
        }
      }
    }
    // Every file of every version: its chunks are indexed (and, with verify_files, its bytes
    // hash to its SHA-256).
    std::vector<std::pair<std::string, std::string>> versions;  // (dataset, version)
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT v.dataset_id, v.id FROM dataset_versions v "
                                           "JOIN datasets d ON d.id = v.dataset_id WHERE "
                                           "d.domain = $1 ORDER BY v.dataset_id, v.seq",
                                           {domain}));
      for (const auto& r : rows) versions.emplace_back(r.Str(0), r.Str(1));
      return Status::Ok();
    }));
    for (const auto& version : versions) {
      // Plain names: structured bindings cannot be captured by the lambdas below in C++20.
      const std::string& ds = version.first;
      const std::string& ver = version.second;
      ++rep.versions;
      RETURN_IF_ERROR(ForEachFile(ds, ver, [&](const FileEntry& f) -> Status {
        ++rep.files;
        std::vector<ChunkEntry> fc;
        RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
          ASSIGN_OR_RETURN(fc, FileChunks(tx, ds, ver, f.path));
          return Status::Ok();
        }));
        int64_t sum = 0;
        bool missing = false;
        for (const auto& c : fc) {
          sum += c.length;
          if (!indexed.count(c.id)) missing = true;
        }
        if (missing) {
          ++rep.missing_chunks;
          problem(fmt::format("dataset {} version {} file '{}': a chunk is not stored", ds,
                              ver.substr(0, 12), f.path));
          return Status::Ok();
        }
        if (sum != f.size) {
          ++rep.bad_files;
          problem(fmt::format("dataset {} version {} file '{}': chunks hold {} bytes, not {}", ds,
                              ver.substr(0, 12), f.path, sum, f.size));
          return Status::Ok();
        }
        if (!verify_files) return Status::Ok();
        Sha256Stream sha;
        Status read = ReadChunks(domain, fc, [&](const std::string& bytes) {
          sha.Update(bytes.data(), bytes.size());
          return Status::Ok();
        });
        if (!read.ok() || ToHex(sha.Finish()) != f.sha256) {
          ++rep.bad_files;
          problem(
              fmt::format("dataset {} version {} file '{}': its bytes do not hash to its SHA-256",
                          ds, ver.substr(0, 12), f.path));
        }
        return Status::Ok();
      }));
    }
  }
  return rep;
}

StatusOr<DataService::GcReport> DataService::CollectGarbage(int64_t now, int64_t upload_ttl_ms) {
  GcReport rep;
  std::vector<std::string> domains;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(domains, ListDomains(tx));
    return Status::Ok();
  }));
  for (const std::string& domain : domains) {
    std::unique_lock<std::shared_mutex> lock(DomainLock(domain));
    std::vector<StoredChunk> dead, live;
    RETURN_IF_ERROR(db_->Write([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(dead, data::CollectGarbage(tx, domain, now, upload_ttl_ms));
      return Status::Ok();
    }));
    rep.chunks_removed += static_cast<int64_t>(dead.size());
    for (const auto& d : dead) rep.bytes_removed += d.loc.stored_len;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(live, DomainChunks(tx, domain));
      return Status::Ok();
    }));
    auto packs = packs_->ListPacks(domain);
    if (!packs.ok()) continue;
    std::map<uint64_t, uint64_t> live_bytes;
    std::map<uint64_t, std::vector<StoredChunk>> by_pack;
    for (const auto& c : live) {
      live_bytes[c.loc.pack] += c.loc.stored_len + kRecordHeaderBytes;
      by_pack[c.loc.pack].push_back(c);
    }
    for (uint64_t pack : *packs) {
      // The newest pack is the one being appended to: it is never compacted.
      if (pack == packs->back()) continue;
      ASSIGN_OR_RETURN(uint64_t size, packs_->PackSize(domain, pack));
      uint64_t lb = live_bytes[pack];
      if (lb * 2 > size) continue;  // mostly live: leave it
      if (lb > 0) {
        std::vector<std::pair<Digest, ChunkLocation>> move;
        for (const auto& c : by_pack[pack]) move.emplace_back(c.id, c.loc);
        auto moved = packs_->Rewrite(domain, move);
        if (!moved.ok()) continue;  // e.g. the pack being appended to: try another time
        std::vector<StoredChunk> rows;
        for (size_t i = 0; i < move.size(); ++i) rows.push_back({move[i].first, (*moved)[i]});
        RETURN_IF_ERROR(
            db_->Write([&](store::Tx& tx) -> Status { return RelocateChunks(tx, domain, rows); }));
        rep.chunks_moved += static_cast<int64_t>(rows.size());
        ++rep.packs_rewritten;
      }
      Status rs = packs_->RemovePack(domain, pack);
      if (rs.ok()) ++rep.packs_removed;
    }
  }
  return rep;
}

StatusOr<Version> DataService::ImportFiles(const std::string& dataset_id,
                                           const std::string& user_id,
                                           const std::map<std::string, std::string>& files,
                                           const std::string& tag, const std::string& message,
                                           int64_t now) {
  Upload upload;
  Dataset dataset;
  RETURN_IF_ERROR(db_->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(dataset, GetDataset(tx, dataset_id));
    ASSIGN_OR_RETURN(upload, OpenUpload(tx, dataset_id, user_id, false, now));
    return Status::Ok();
  }));
  ChunkerParams params;
  for (const auto& file : files) {
    // Named copies: a lambda below uses them (clang 14 captures no structured binding).
    const std::string& path = file.first;
    const std::string& bytes = file.second;
    struct FileChunks fc =
        ChunkBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), params);
    std::vector<WireChunk> batch;
    std::vector<ChunkEntry> entries;
    for (const auto& c : fc.chunks) {
      batch.push_back({c.id, std::string_view(bytes).substr(c.offset, c.length)});
      entries.push_back({c.id, static_cast<uint32_t>(c.length)});
      if (batch.size() == kMaxChunksPerBatch) {
        RETURN_IF_ERROR(PutChunks(upload, dataset.domain, batch, now).status());
        batch.clear();
      }
    }
    if (!batch.empty()) RETURN_IF_ERROR(PutChunks(upload, dataset.domain, batch, now).status());
    RETURN_IF_ERROR(db_->Write([&](store::Tx& tx) -> Status {
      if (!entries.empty()) RETURN_IF_ERROR(AddSegment(tx, upload, path, 0, entries));
      return AddFile(
          tx, upload,
          {path, ToHex(fc.sha256), static_cast<int64_t>(fc.size), entries.empty() ? 0 : 1});
    }));
  }
  Version version;
  RETURN_IF_ERROR(db_->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto committed, CommitPush(tx, upload.id, tag, message, now));
    version = committed.version;
    return Status::Ok();
  }));
  return version;
}

}  // namespace openlab::data
