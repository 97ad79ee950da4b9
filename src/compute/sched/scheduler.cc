#include "compute/sched/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

namespace openlab::compute {

const char* PolicyName(Policy p) {
  switch (p) {
    case Policy::kFifo:
      return "fifo";
    case Policy::kBackfill:
      return "backfill";
    case Policy::kOpenlab:
      return "openlab";
  }
  return "?";
}

StatusOr<Policy> ParsePolicy(std::string_view name) {
  if (name == "fifo") return Policy::kFifo;
  if (name == "backfill") return Policy::kBackfill;
  if (name == "openlab") return Policy::kOpenlab;
  return InvalidArgument(fmt::format("unknown policy '{}' (want fifo, backfill or openlab)", name));
}

const char* JobClassName(JobClass c) {
  return c == JobClass::kStandard ? "standard" : "opportunistic";
}

StatusOr<JobClass> ParseJobClass(std::string_view name) {
  if (name == "standard") return JobClass::kStandard;
  if (name == "opportunistic") return JobClass::kOpportunistic;
  return InvalidArgument(
      fmt::format("unknown job class '{}' (want standard or opportunistic)", name));
}

const char* PendingReasonName(PendingReason r) {
  switch (r) {
    case PendingReason::kNone:
      return "None";
    case PendingReason::kPriority:
      return "Priority";
    case PendingReason::kResources:
      return "Resources";
    case PendingReason::kReservation:
      return "Reservation";
  }
  return "?";
}

namespace {

constexpr double kSecondsPerDay = 86400.0;
constexpr Time kNever = std::numeric_limits<Time>::max();

struct Job;

// A pending job in its user's queue: highest key first, then lowest id.
struct QEntry {
  double key;
  JobId id;
  Job* job;
};
struct QLess {
  bool operator()(const QEntry& a, const QEntry& b) const {
    if (a.key != b.key) return a.key > b.key;
    return a.id < b.id;
  }
};
using Queue = std::set<QEntry, QLess>;

// A running job by the end of its time limit, for the backfill timeline.
struct REntry {
  Time end;
  JobId id;
  Job* job;
  bool operator<(const REntry& o) const { return end != o.end ? end < o.end : id < o.id; }
};

struct Job {
  JobSpec spec;
  CoreJobState state = CoreJobState::kPending;
  int leaf = 0;        // fair-share tree node of the user
  int queue_leaf = 0;  // the queue it waits in
  bool opp = false;    // opportunistic under kOpenlab
  bool single = true;  // fits on one node
  double key = 0;      // static part of the priority
  double priority = 0;
  std::vector<int> types;  // allowed type indices
  Queue::iterator qit;
  Time start = 0;
  Time end_by_limit = 0;
  std::vector<Slice> slices;
  PendingReason reason = PendingReason::kNone;
  std::optional<Time> est;
  uint64_t reason_pass = 0;
  int preemptions = 0;
};

struct Node {
  NodeSpec spec;
  int type = 0;
  int cap = 0;
  int free = 0;
  int opp = 0;  // GPUs held by running opportunistic jobs
  bool in_main = true;
  int bucket_pos = -1;
  int full_pos = -1;
  int adv = -1;        // advance reservation pinning it
  bool easy = false;   // holds the pass's backfill reservation
  int spare = 0;       // easy: GPUs free at the reserved start beyond what the reservation needs
  uint64_t taken = 0;  // pass-local mark while building a multi-node placement
  std::vector<Job*> opp_jobs;
};

struct TypeIndex {
  std::string name;
  int max_cap = 0;
  int64_t cap_total = 0;
  int64_t free_total = 0;                 // all nodes of the type
  std::vector<std::vector<int>> buckets;  // in_main nodes by free count
  std::vector<int> full;                  // in_main nodes with free == cap
};

struct FsNode {
  int parent = -1;
  int children = 0;
  double usage = 0;        // decayed GPU-seconds
  int64_t running = 0;     // GPUs in use now (subtree)
  double child_usage = 0;  // scratch: sum of the children's usage
  double factor = 1;
  Queue q[2];  // [0] standard, [1] opportunistic (kOpenlab)
};

struct Adv {
  AdvanceReservation r;
  std::vector<int> nodes;
  bool expired = false;
};

}  // namespace

class Scheduler::Impl {
 public:
  Impl(std::vector<NodeSpec> specs, SchedulerOptions o) : opt_(o) {
    fs_.emplace_back();  // root
    for (auto& s : specs) {
      Node n;
      n.spec = std::move(s);
      n.cap = n.spec.gpus;
      n.free = n.cap;
      int t = TypeOf(n.spec.gpu_type, /*create=*/true);
      n.type = t;
      TypeIndex& ti = types_[t];
      ti.max_cap = std::max(ti.max_cap, n.cap);
      ti.cap_total += n.cap;
      ti.free_total += n.cap;
      total_ += n.cap;
      free_total_ += n.cap;
      nodes_.push_back(std::move(n));
    }
    for (auto& ti : types_) ti.buckets.resize(ti.max_cap + 1);
    for (const Node& n : nodes_) uniform_caps_ = uniform_caps_ && n.cap == nodes_[0].cap;
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) IndexAdd(i);
    for (auto& n : nodes_) specs_.push_back(n.spec);
    jobs_.reserve(1024);
  }

  // ---- events -------------------------------------------------------------------------
  Status Submit(const JobSpec& spec, Time now) {
    if (spec.gpus <= 0) return InvalidArgument(fmt::format("job {}: gpus must be > 0", spec.id));
    if (spec.time_limit <= 0) {
      return InvalidArgument(fmt::format("job {}: time limit must be > 0", spec.id));
    }
    if (jobs_.count(spec.id)) return AlreadyExists(fmt::format("job {} already exists", spec.id));
    Job j;
    j.spec = spec;
    RETURN_IF_ERROR(Feasible(j));
    AdvanceUsage(now);
    j.leaf = Leaf(spec.org, spec.project, spec.user);
    j.opp = opt_.policy == Policy::kOpenlab && spec.job_class == JobClass::kOpportunistic;
    j.queue_leaf = opt_.policy == Policy::kOpenlab ? j.leaf : 0;
    j.key = StaticKey(j);
    auto [it, inserted] = jobs_.emplace(spec.id, std::move(j));
    Enqueue(&it->second);
    return Status::Ok();
  }

  Status Complete(JobId id, Time now) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.state != CoreJobState::kRunning) {
      return NotFound(fmt::format("job {} is not running", id));
    }
    AdvanceUsage(now);
    Release(&it->second);
    jobs_.erase(it);
    return Status::Ok();
  }

  Status Cancel(JobId id, Time now) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return NotFound(fmt::format("job {} not found", id));
    if (it->second.state == CoreJobState::kRunning) {
      AdvanceUsage(now);
      Release(&it->second);
    } else {
      Dequeue(&it->second);
    }
    jobs_.erase(it);
    return Status::Ok();
  }

  StatusOr<int64_t> AddReservation(const AdvanceReservation& r, Time now) {
    if (r.gpus <= 0) return InvalidArgument("reservation: gpus must be > 0");
    if (r.end <= r.start) return InvalidArgument("reservation: end must be after start");
    if (r.end <= now) return InvalidArgument("reservation: the window is already over");
    std::vector<int> chosen;
    int got = 0;
    for (int i = 0; i < static_cast<int>(nodes_.size()) && got < r.gpus; ++i) {
      const Node& n = nodes_[i];
      if (n.adv >= 0 || (!r.gpu_type.empty() && n.spec.gpu_type != r.gpu_type)) continue;
      chosen.push_back(i);
      got += n.cap;
    }
    if (got < r.gpus) {
      return ResourceExhausted(fmt::format("reservation: only {} unreserved GPUs{} exist, {} asked",
                                           got, r.gpu_type.empty() ? "" : " of type " + r.gpu_type,
                                           r.gpus));
    }
    int idx = static_cast<int>(advs_.size());
    advs_.push_back(Adv{r, chosen, false});
    adv_pinned_ += static_cast<int>(chosen.size());
    for (int n : chosen) {
      nodes_[n].adv = idx;
      if (nodes_[n].in_main) {
        IndexRemove(n);
        side_.push_back(n);
      }
    }
    return static_cast<int64_t>(idx + 1);
  }

  // ---- the pass -----------------------------------------------------------------------
  std::vector<Decision> Schedule(Time now) {
    ++pass_;
    examined_.clear();
    std::vector<Decision> out;
    AdvanceUsage(now);
    ExpireReservations(now);
    if (opt_.policy == Policy::kOpenlab) ComputeFairShare();
    const double age_off =
        opt_.policy == Policy::kOpenlab ? opt_.weight_age * now / kSecondsPerDay : 0;
    const bool backfill =
        opt_.policy == Policy::kBackfill || (opt_.policy == Policy::kOpenlab && opt_.backfill);
    requeue_.clear();

    Merge merge(this, 0, age_off);
    Dominance dom(this, 0);
    Job* head = nullptr;  // the job holding the backfill reservation
    easy_end_ = kNever;
    while (Job* j = merge.Next()) {
      j->reason_pass = pass_;
      examined_.push_back(j->spec.id);
      j->est.reset();
      if (head == nullptr) {
        if (free_total_ > 0 && TryStart(j, now, &out)) continue;
        if (opp_total_ > 0 && TryPreempt(j, now, &out)) continue;
        head = j;
        j->reason = PendingReason::kResources;
        bool by_adv = false;
        bool found = ReserveFor(j, now, &by_adv);
        if (!found || by_adv) j->reason = PendingReason::kReservation;
        if (!backfill || !found) break;
        continue;
      }
      // Backfill: j may start only where it does not delay the head's reserved start.
      if (free_total_ == 0) break;
      if (dom.Dominated(*j) || !TryStart(j, now, &out)) {
        j->reason = PendingReason::kPriority;
        if (dom.Fail(*j)) break;
      }
    }
    ClearEasy();

    if (opt_.policy == Policy::kOpenlab && free_total_ > 0) {
      Merge opp(this, 1, age_off);
      Dominance odom(this, 1);
      while (Job* j = opp.Next()) {
        j->reason_pass = pass_;
        examined_.push_back(j->spec.id);
        j->est.reset();
        if (free_total_ == 0) break;
        if (odom.Dominated(*j) || !TryStart(j, now, &out)) {
          j->reason = PendingReason::kResources;
          if (odom.Fail(*j)) break;
        }
      }
    }
    for (Job* j : requeue_) Enqueue(j);
    requeue_.clear();
    return out;
  }

  // ---- queries ------------------------------------------------------------------------
  std::optional<JobView> Find(JobId id) const {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    const Job& j = it->second;
    JobView v;
    v.spec = j.spec;
    v.state = j.state;
    v.priority = j.priority;
    v.preemptions = j.preemptions;
    if (j.state == CoreJobState::kRunning) {
      v.start = j.start;
      v.slices = j.slices;
    } else if (j.reason_pass == pass_) {
      v.reason = j.reason;
      v.estimated_start = j.est;
    } else {
      v.reason = pass_ == 0 ? PendingReason::kNone : PendingReason::kPriority;
    }
    return v;
  }

  double FairShareFactor(std::string_view org, std::string_view project,
                         std::string_view user) const {
    auto it = fs_index_.find(UserKey(org, project, user));
    return it == fs_index_.end() ? 1.0 : fs_[it->second].factor;
  }

  const std::vector<NodeSpec>& specs() const { return specs_; }
  int free_gpus(int node) const { return nodes_[node].free; }
  int64_t total() const { return total_; }
  int64_t busy() const { return total_ - free_total_; }
  size_t pending() const { return jobs_.size() - running_; }
  const std::vector<JobId>& examined() const { return examined_; }
  size_t running() const { return running_; }

 private:
  // Merges the per-user queues of one class in priority order (key + the user's offset).
  class Merge {
   public:
    Merge(Impl* s, int cls, double age_off) : s_(s), cls_(cls), offs_(s->fs_.size(), 0) {
      for (int i = 0; i < static_cast<int>(s->fs_.size()); ++i) {
        Queue& q = s->fs_[i].q[cls];
        if (q.empty()) continue;
        double off = age_off;
        if (s->opt_.policy == Policy::kOpenlab) off += s->opt_.weight_fair_share * s->fs_[i].factor;
        offs_[i] = off;
        heap_.push(Item{q.begin()->key + off, q.begin()->id, i, q.begin()});
      }
    }
    // The next job in priority order, or nullptr. The returned job may be started (removed from
    // its queue) before the next call.
    Job* Next() {
      if (heap_.empty()) return nullptr;
      Item top = heap_.top();
      heap_.pop();
      auto nx = std::next(top.it);
      if (nx != s_->fs_[top.leaf].q[cls_].end()) {
        heap_.push(Item{nx->key + offs_[top.leaf], nx->id, top.leaf, nx});
      }
      top.it->job->priority = top.pri;
      return top.it->job;
    }

   private:
    struct Item {
      double pri;
      JobId id;
      int leaf;
      Queue::iterator it;
      bool operator<(const Item& o) const {  // max-heap on pri, then lowest id
        if (pri != o.pri) return pri < o.pri;
        return id > o.id;
      }
    };
    Impl* s_;
    int cls_;
    std::vector<double> offs_;
    std::priority_queue<Item> heap_;
  };

  // ---- tenancy and fair share ----------------------------------------------------------
  static std::string UserKey(std::string_view o, std::string_view p, std::string_view u) {
    std::string k;
    k.reserve(o.size() + p.size() + u.size() + 2);
    k.append(o).push_back('\x1f');
    k.append(p).push_back('\x1f');
    k.append(u);
    return k;
  }

  int Child(int parent, std::string key) {
    auto it = fs_index_.find(key);
    if (it != fs_index_.end()) return it->second;
    int idx = static_cast<int>(fs_.size());
    fs_.emplace_back();
    fs_[idx].parent = parent;
    fs_[parent].children++;
    fs_index_.emplace(std::move(key), idx);
    return idx;
  }

  int Leaf(const std::string& o, const std::string& p, const std::string& u) {
    int org = Child(0, o);
    int proj = Child(org, o + '\x1f' + p);
    return Child(proj, UserKey(o, p, u));
  }

  void AdvanceUsage(Time now) {
    if (usage_time_ == std::numeric_limits<Time>::min()) usage_time_ = now;
    if (now <= usage_time_) return;
    double dt = static_cast<double>(now - usage_time_);
    usage_time_ = now;
    double h = opt_.usage_half_life_s;
    double d = std::exp2(-dt / h);
    double accrue = h / std::log(2.0) * (1 - d);  // integral of the decay over dt
    for (auto& n : fs_) n.usage = n.usage * d + static_cast<double>(n.running) * accrue;
  }

  void ComputeFairShare() {
    for (auto& n : fs_) n.child_usage = 0;
    for (size_t i = 1; i < fs_.size(); ++i) fs_[fs_[i].parent].child_usage += fs_[i].usage;
    fs_[0].factor = 1;
    // Parents precede their children in fs_.
    for (size_t i = 1; i < fs_.size(); ++i) {
      const FsNode& p = fs_[fs_[i].parent];
      double u = p.child_usage > 0 ? fs_[i].usage / p.child_usage : 0;
      double s = 1.0 / p.children;
      fs_[i].factor = p.factor * std::exp2(-u / s);
    }
  }

  void AddRunning(int leaf, int64_t g) {
    for (int i = leaf; i >= 0; i = fs_[i].parent) fs_[i].running += g;
  }

  double StaticKey(const Job& j) const {
    if (opt_.policy != Policy::kOpenlab) return -static_cast<double>(j.spec.submit);
    double gpu_hours = static_cast<double>(j.spec.gpus) * j.spec.time_limit / 3600.0;
    double size = 1 - std::log2(1 + gpu_hours) / std::log2(1 + opt_.size_ref_gpu_hours);
    size = std::clamp(size, 0.0, 1.0);
    double cls = j.spec.job_class == JobClass::kStandard ? 1.0 : 0.0;
    return opt_.weight_size * size + opt_.weight_class * cls -
           opt_.weight_age * j.spec.submit / kSecondsPerDay;
  }

  void Enqueue(Job* j) {
    j->state = CoreJobState::kPending;
    int c = j->opp ? 1 : 0;
    j->qit = fs_[j->queue_leaf].q[c].insert(QEntry{j->key, j->spec.id, j}).first;
    shapes_[c].gpus[j->spec.gpus]++;
    shapes_[c].limits[j->spec.time_limit]++;
  }
  void Dequeue(Job* j) {
    int c = j->opp ? 1 : 0;
    fs_[j->queue_leaf].q[c].erase(j->qit);
    auto dec = [](auto& m, auto key) {
      auto it = m.find(key);
      if (--it->second == 0) m.erase(it);
    };
    dec(shapes_[c].gpus, j->spec.gpus);
    dec(shapes_[c].limits, j->spec.time_limit);
  }

  // Within one pass free GPUs only shrink, so if a job of g GPUs and limit L could not be
  // placed, no later job with at least g GPUs and at least L seconds can be (its placement
  // options are a subset), unless an advance reservation lets some projects use nodes others
  // may not, or nodes differ in size (whole smaller nodes may fit a multi-node job where a
  // single-node job did not fit). Failures of untyped jobs are kept (Pareto-minimal) to skip such
  // jobs, and the scan stops once they cover every pending shape.
  class Dominance {
   public:
    Dominance(const Impl* s, int cls)
        : s_(s), cls_(cls), on_(s->adv_pinned_ == 0 && s->uniform_caps_) {}
    bool Dominated(const Job& j) const {
      if (!on_) return false;
      for (auto& [g, l] : fails_) {
        if (j.spec.gpus >= g && j.spec.time_limit >= l) return true;
      }
      return false;
    }
    // Records a failure; true when every pending job of the class is now dominated.
    bool Fail(const Job& j) {
      if (!on_ || !j.spec.gpu_type.empty()) return false;
      int g = j.spec.gpus;
      Time l = j.spec.time_limit;
      std::erase_if(fails_, [&](auto& f) { return f.first >= g && f.second >= l; });
      fails_.emplace_back(g, l);
      const Shapes& sh = s_->shapes_[cls_];
      if (sh.gpus.empty()) return true;
      return sh.gpus.begin()->first >= g && sh.limits.begin()->first >= l;
    }

   private:
    const Impl* s_;
    int cls_;
    bool on_;
    std::vector<std::pair<int, Time>> fails_;
  };

  // ---- types and feasibility -------------------------------------------------------------
  int TypeOf(const std::string& name, bool create) {
    for (int i = 0; i < static_cast<int>(types_.size()); ++i) {
      if (types_[i].name == name) return i;
    }
    if (!create) return -1;
    types_.push_back(TypeIndex{name});
    return static_cast<int>(types_.size()) - 1;
  }

  Status Feasible(Job& j) {
    const JobSpec& s = j.spec;
    int max_cap = 0;
    int64_t max_total = 0;
    for (int t = 0; t < static_cast<int>(types_.size()); ++t) {
      if (!s.gpu_type.empty() && types_[t].name != s.gpu_type) continue;
      j.types.push_back(t);
      max_cap = std::max(max_cap, types_[t].max_cap);
      max_total = std::max(max_total, types_[t].cap_total);
    }
    std::string of_type = s.gpu_type.empty() ? "" : " of type " + s.gpu_type;
    if (j.types.empty()) {
      return InvalidArgument(
                 fmt::format("job {} needs GPUs of type {}, which no node has", s.id, s.gpu_type))
          .WithKind("unschedulable");
    }
    j.single = s.gpus <= max_cap;
    if (j.single) {
      std::erase_if(j.types, [&](int t) { return types_[t].max_cap < s.gpus; });
    } else if (s.gpus > max_total) {
      return InvalidArgument(fmt::format("job {} needs {} GPUs{} but the cluster has at most {}{}",
                                         s.id, s.gpus, of_type, max_total,
                                         j.types.size() > 1 ? " of any one type" : ""))
          .WithKind("unschedulable");
    } else {
      std::erase_if(j.types, [&](int t) { return types_[t].cap_total < s.gpus; });
    }
    return Status::Ok();
  }

  // ---- the free-GPU index ----------------------------------------------------------------
  void IndexAdd(int i) {
    Node& n = nodes_[i];
    TypeIndex& t = types_[n.type];
    auto& b = t.buckets[n.free];
    n.bucket_pos = static_cast<int>(b.size());
    b.push_back(i);
    if (n.free == n.cap) {
      n.full_pos = static_cast<int>(t.full.size());
      t.full.push_back(i);
    }
    n.in_main = true;
  }

  void IndexRemove(int i) {
    Node& n = nodes_[i];
    TypeIndex& t = types_[n.type];
    auto& b = t.buckets[n.free];
    int moved = b.back();
    b[n.bucket_pos] = moved;
    nodes_[moved].bucket_pos = n.bucket_pos;
    b.pop_back();
    if (n.full_pos >= 0) {
      int m = t.full.back();
      t.full[n.full_pos] = m;
      nodes_[m].full_pos = n.full_pos;
      t.full.pop_back();
      n.full_pos = -1;
    }
    n.bucket_pos = -1;
    n.in_main = false;
  }

  void SetFree(int i, int free) {
    Node& n = nodes_[i];
    int delta = free - n.free;
    types_[n.type].free_total += delta;
    free_total_ += delta;
    if (n.in_main) {
      IndexRemove(i);
      n.free = free;
      IndexAdd(i);
    } else {
      n.free = free;
    }
  }

  // ---- placement ---------------------------------------------------------------------------
  // Whether job j may use GPUs of node n (out of the main index) now; *preferred when it is
  // the natural place for j (its project's reservation, or a hole that ends before the
  // backfill reservation). `whole`: the job takes the whole node.
  bool SideAllowed(const Node& n, const Job& j, Time now, int g, bool* preferred) const {
    *preferred = false;
    Time end = now + j.spec.time_limit;
    if (n.adv >= 0) {
      const Adv& a = advs_[n.adv];
      if (a.r.org == j.spec.org && a.r.project == j.spec.project) {
        *preferred = true;
      } else if (end > a.r.start) {
        return false;
      }
    }
    if (n.easy) {
      if (end <= easy_end_) {
        *preferred = true;
      } else if (n.spare < g) {
        return false;
      }
    }
    return true;
  }

  bool TypeAllowed(const Job& j, int t) const {
    return std::find(j.types.begin(), j.types.end(), t) != j.types.end();
  }

  // Best fit on one node: preferred side nodes first, then the main index and the rest.
  int FindSingle(const Job& j, Time now, int g) const {
    int best_pref = -1, best_pref_free = 0, best = -1, best_free = 0;
    for (int i : side_) {
      const Node& n = nodes_[i];
      if (n.free < g || !TypeAllowed(j, n.type)) continue;
      bool pref;
      if (!SideAllowed(n, j, now, g, &pref)) continue;
      if (pref) {
        if (best_pref < 0 || n.free < best_pref_free) best_pref = i, best_pref_free = n.free;
      } else if (best < 0 || n.free < best_free) {
        best = i, best_free = n.free;
      }
    }
    if (best_pref >= 0) return best_pref;
    for (int t : j.types) {
      const TypeIndex& ti = types_[t];
      int limit = best >= 0 ? std::min(best_free - 1, ti.max_cap) : ti.max_cap;
      for (int k = g; k <= limit; ++k) {
        if (!ti.buckets[k].empty()) {
          best = ti.buckets[k].back(), best_free = k;
          break;
        }
      }
    }
    return best;
  }

  // Whole free nodes of one type, then the remainder on one node (best fit).
  bool FindMulti(const Job& j, Time now, int t, std::vector<Slice>* out) {
    const TypeIndex& ti = types_[t];
    int need = j.spec.gpus;
    if (ti.free_total < need) return false;
    ++mark_;
    out->clear();
    auto take = [&](int i, int g) {
      nodes_[i].taken = mark_;
      out->push_back(Slice{i, g});
      need -= g;
    };
    for (int i : side_) {
      const Node& n = nodes_[i];
      if (need == 0) break;
      if (n.type != t || n.free != n.cap || n.cap > need) continue;
      bool pref;
      if (SideAllowed(n, j, now, n.cap, &pref)) take(i, n.cap);
    }
    for (int i : ti.full) {
      if (need == 0) break;
      if (nodes_[i].cap <= need) take(i, nodes_[i].cap);
    }
    if (need > 0) {
      int best = -1, best_free = 0;
      for (int i : side_) {
        const Node& n = nodes_[i];
        bool pref;
        if (n.type != t || n.taken == mark_ || n.free < need) continue;
        if (!SideAllowed(n, j, now, need, &pref)) continue;
        if (best < 0 || n.free < best_free) best = i, best_free = n.free;
      }
      for (int k = need; k <= ti.max_cap && (best < 0 || k < best_free); ++k) {
        const auto& b = ti.buckets[k];
        for (auto it = b.rbegin(); it != b.rend(); ++it) {
          if (nodes_[*it].taken != mark_) {
            best = *it, best_free = k;
            break;
          }
        }
        if (best >= 0 && best_free == k) break;
      }
      if (best < 0) return false;
      take(best, need);
    }
    return true;
  }

  bool FindPlacement(const Job& j, Time now, std::vector<Slice>* out) {
    if (j.single) {
      int n = FindSingle(j, now, j.spec.gpus);
      if (n < 0) return false;
      out->assign(1, Slice{n, j.spec.gpus});
      return true;
    }
    for (int t : j.types) {
      if (FindMulti(j, now, t, out)) return true;
    }
    return false;
  }

  void Commit(Job* j, std::vector<Slice> slices, Time now, std::vector<Decision>* out) {
    Dequeue(j);
    j->state = CoreJobState::kRunning;
    j->start = now;
    j->end_by_limit = now + j->spec.time_limit;
    j->reason = PendingReason::kNone;
    j->est.reset();
    for (const Slice& s : slices) {
      Node& n = nodes_[s.node];
      if (n.easy && j->end_by_limit > easy_end_ && !j->opp) n.spare -= s.gpus;
      SetFree(s.node, n.free - s.gpus);
      if (j->opp) {
        n.opp += s.gpus;
        opp_total_ += s.gpus;
        n.opp_jobs.push_back(j);
      }
    }
    j->slices = std::move(slices);
    by_end_.insert(REntry{j->end_by_limit, j->spec.id, j});
    AddRunning(j->leaf, j->spec.gpus);
    ++running_;
    out->push_back(Decision{Decision::Kind::kStart, j->spec.id, j->slices});
  }

  void Release(Job* j) {
    for (const Slice& s : j->slices) {
      Node& n = nodes_[s.node];
      SetFree(s.node, n.free + s.gpus);
      if (j->opp) {
        n.opp -= s.gpus;
        opp_total_ -= s.gpus;
        std::erase(n.opp_jobs, j);
      }
    }
    by_end_.erase(REntry{j->end_by_limit, j->spec.id, j});
    AddRunning(j->leaf, -j->spec.gpus);
    --running_;
  }

  bool TryStart(Job* j, Time now, std::vector<Decision>* out) {
    if (!FindPlacement(*j, now, &scratch_slices_)) return false;
    Commit(j, scratch_slices_, now, out);
    return true;
  }

  // Starts standard job j by preempting opportunistic jobs, if that makes it fit now.
  bool TryPreempt(Job* j, Time now, std::vector<Decision>* out) {
    if (j->opp) return false;
    // Placement on free + opportunistic GPUs, by a scan (preemption is rare).
    auto vfree = [&](const Node& n) { return n.free + n.opp; };
    auto allowed = [&](int i, int g) {
      const Node& n = nodes_[i];
      if (!TypeAllowed(*j, n.type)) return false;
      bool pref;
      return n.in_main || SideAllowed(n, *j, now, g, &pref);
    };
    std::vector<Slice> slices;
    int g = j->spec.gpus;
    if (j->single) {
      int best = -1;
      for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        if (vfree(nodes_[i]) < g || !allowed(i, g)) continue;
        if (best < 0 || vfree(nodes_[i]) < vfree(nodes_[best])) best = i;
      }
      if (best < 0) return false;
      slices.push_back(Slice{best, g});
    } else {
      bool ok = false;
      for (int t : j->types) {
        slices.clear();
        int need = g;
        for (int i = 0; i < static_cast<int>(nodes_.size()) && need > 0; ++i) {
          const Node& n = nodes_[i];
          if (n.type != t || vfree(n) != n.cap || n.cap > need || !allowed(i, n.cap)) continue;
          slices.push_back(Slice{i, n.cap});
          need -= n.cap;
        }
        if (need > 0) {
          int best = -1;
          for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
            const Node& n = nodes_[i];
            bool used = std::any_of(slices.begin(), slices.end(),
                                    [&](const Slice& s) { return s.node == i; });
            if (used || n.type != t || vfree(n) < need || !allowed(i, need)) continue;
            if (best < 0 || vfree(n) < vfree(nodes_[best])) best = i;
          }
          if (best < 0) continue;
          slices.push_back(Slice{best, need});
        }
        ok = true;
        break;
      }
      if (!ok) return false;
    }
    for (const Slice& s : slices) {
      while (nodes_[s.node].free < s.gpus) {
        Job* victim = nodes_[s.node].opp_jobs.back();  // the latest started
        std::vector<Slice> given = victim->slices;
        Release(victim);
        victim->slices.clear();
        victim->state = CoreJobState::kPending;
        victim->preemptions++;
        requeue_.push_back(victim);
        out->push_back(Decision{Decision::Kind::kPreempt, victim->spec.id, std::move(given)});
      }
    }
    // The job was popped from the merge; Commit dequeues it.
    Commit(j, std::move(slices), now, out);
    return true;
  }

  // ---- the backfill reservation -----------------------------------------------------------
  // Finds the earliest time the head job j fits, walking the releases of running jobs by their
  // time limits (opportunistic GPUs count as free: they would be preempted), and marks the
  // nodes it would use at that time (easy, with their spare GPUs) so backfill respects them.
  // *by_adv: the reserved start is when an advance reservation ends.
  bool ReserveFor(Job* j, Time now, bool* by_adv) {
    const int n_nodes = static_cast<int>(nodes_.size());
    sfree_.resize(n_nodes);
    usable_.assign(n_nodes, 0);
    std::vector<int64_t> tfree(types_.size(), 0);
    std::vector<std::pair<Time, int>> opens;  // advance reservations ending
    for (int i = 0; i < n_nodes; ++i) {
      const Node& n = nodes_[i];
      sfree_[i] = n.free + n.opp;
      if (!TypeAllowed(*j, n.type)) continue;
      if (n.adv >= 0) {
        const Adv& a = advs_[n.adv];
        if (a.r.org != j->spec.org || a.r.project != j->spec.project) {
          opens.emplace_back(a.r.end, i);
          continue;
        }
      }
      usable_[i] = 1;
      tfree[n.type] += sfree_[i];
    }
    std::sort(opens.begin(), opens.end());
    const int g = j->spec.gpus;
    std::vector<int> touched;
    auto fits = [&]() -> bool {
      if (j->single) {
        for (int i : touched) {
          if (usable_[i] && sfree_[i] >= g) return true;
        }
        return false;
      }
      for (int t : j->types) {
        if (tfree[t] >= g && ScratchMulti(*j, t, nullptr)) return true;
      }
      return false;
    };
    auto rit = by_end_.begin();
    size_t oi = 0;
    Time at = kNever;
    for (int i = 0; i < n_nodes; ++i) {
      if (usable_[i]) touched.push_back(i);
    }
    if (fits()) at = now;
    while (at == kNever && (rit != by_end_.end() || oi < opens.size())) {
      Time t = kNever;
      if (rit != by_end_.end()) t = rit->end;
      if (oi < opens.size()) t = std::min(t, opens[oi].first);
      touched.clear();
      for (; rit != by_end_.end() && rit->end == t; ++rit) {
        const Job* r = rit->job;
        if (r->opp) continue;
        for (const Slice& s : r->slices) {
          sfree_[s.node] += s.gpus;
          if (usable_[s.node]) tfree[nodes_[s.node].type] += s.gpus;
          touched.push_back(s.node);
        }
      }
      bool opened = false;
      for (; oi < opens.size() && opens[oi].first == t; ++oi) {
        int i = opens[oi].second;
        opened = true;
        usable_[i] = 1;
        tfree[nodes_[i].type] += sfree_[i];
        touched.push_back(i);
      }
      if (fits()) {
        at = std::max(t, now);
        *by_adv = opened;
        break;
      }
    }
    if (at == kNever) return false;
    // Where it would run at `at`.
    std::vector<Slice> slices;
    if (j->single) {
      int best = -1;
      for (int i = 0; i < n_nodes; ++i) {
        if (!usable_[i] || sfree_[i] < g) continue;
        if (best < 0 || sfree_[i] < sfree_[best]) best = i;
      }
      slices.push_back(Slice{best, g});
    } else {
      for (int t : j->types) {
        if (tfree[t] >= g && ScratchMulti(*j, t, &slices)) break;
      }
    }
    j->est = at;
    easy_end_ = at;
    for (const Slice& s : slices) {
      Node& n = nodes_[s.node];
      n.easy = true;
      n.spare = sfree_[s.node] - s.gpus;
      if (n.in_main) {
        IndexRemove(s.node);
        side_.push_back(s.node);
      }
      easy_nodes_.push_back(s.node);
    }
    return true;
  }

  // Multi-node placement on the scratch free counts (usable nodes only).
  bool ScratchMulti(const Job& j, int t, std::vector<Slice>* out) {
    int need = j.spec.gpus;
    ++mark_;
    std::vector<Slice> local;
    for (int i = 0; i < static_cast<int>(nodes_.size()) && need > 0; ++i) {
      const Node& n = nodes_[i];
      if (!usable_[i] || n.type != t || sfree_[i] != n.cap || n.cap > need) continue;
      nodes_[i].taken = mark_;
      local.push_back(Slice{i, n.cap});
      need -= n.cap;
    }
    if (need > 0) {
      int best = -1;
      for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        const Node& n = nodes_[i];
        if (!usable_[i] || n.type != t || n.taken == mark_ || sfree_[i] < need) continue;
        if (best < 0 || sfree_[i] < sfree_[best]) best = i;
      }
      if (best < 0) return false;
      local.push_back(Slice{best, need});
    }
    if (out) *out = std::move(local);
    return true;
  }

  void ClearEasy() {
    for (int i : easy_nodes_) {
      Node& n = nodes_[i];
      n.easy = false;
      n.spare = 0;
      if (n.adv < 0 && !n.in_main) {
        std::erase(side_, i);
        IndexAdd(i);
      }
    }
    easy_nodes_.clear();
    easy_end_ = kNever;
  }

  void ExpireReservations(Time now) {
    for (Adv& a : advs_) {
      if (a.expired || a.r.end > now) continue;
      a.expired = true;
      adv_pinned_ -= static_cast<int>(a.nodes.size());
      for (int i : a.nodes) {
        nodes_[i].adv = -1;
        std::erase(side_, i);
        IndexAdd(i);
      }
    }
  }

  struct Shapes {  // pending jobs by GPU count and by time limit
    std::map<int, int> gpus;
    std::map<Time, int> limits;
  };

  SchedulerOptions opt_;
  Shapes shapes_[2];
  int adv_pinned_ = 0;
  bool uniform_caps_ = true;  // every node has the same GPU count (see Dominance)
  std::vector<Node> nodes_;
  std::vector<NodeSpec> specs_;
  std::vector<TypeIndex> types_;
  std::vector<int> side_;  // nodes out of the main index: pinned by a reservation
  std::vector<int> easy_nodes_;
  Time easy_end_ = kNever;
  std::vector<Adv> advs_;
  std::vector<FsNode> fs_;
  std::unordered_map<std::string, int> fs_index_;
  std::unordered_map<JobId, Job> jobs_;
  std::set<REntry> by_end_;
  std::vector<Job*> requeue_;
  std::vector<Slice> scratch_slices_;
  std::vector<int> sfree_;
  std::vector<char> usable_;
  int64_t total_ = 0;
  int64_t free_total_ = 0;
  int64_t opp_total_ = 0;
  size_t running_ = 0;
  Time usage_time_ = std::numeric_limits<Time>::min();
  uint64_t pass_ = 0;
  std::vector<JobId> examined_;  // pending jobs whose reason the last pass set
  uint64_t mark_ = 0;
};

Scheduler::Scheduler(std::vector<NodeSpec> nodes, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(std::move(nodes), options)) {}
Scheduler::~Scheduler() = default;
Status Scheduler::Submit(const JobSpec& job, Time now) { return impl_->Submit(job, now); }
Status Scheduler::Complete(JobId id, Time now) { return impl_->Complete(id, now); }
Status Scheduler::Cancel(JobId id, Time now) { return impl_->Cancel(id, now); }
StatusOr<int64_t> Scheduler::AddReservation(const AdvanceReservation& r, Time now) {
  return impl_->AddReservation(r, now);
}
std::vector<Decision> Scheduler::Schedule(Time now) { return impl_->Schedule(now); }
std::optional<JobView> Scheduler::Find(JobId id) const { return impl_->Find(id); }
const std::vector<NodeSpec>& Scheduler::nodes() const { return impl_->specs(); }
int Scheduler::free_gpus(int node) const { return impl_->free_gpus(node); }
int64_t Scheduler::total_gpus() const { return impl_->total(); }
int64_t Scheduler::busy_gpus() const { return impl_->busy(); }
size_t Scheduler::pending_count() const { return impl_->pending(); }
size_t Scheduler::running_count() const { return impl_->running(); }
const std::vector<JobId>& Scheduler::examined() const { return impl_->examined(); }
double Scheduler::FairShareFactor(std::string_view org, std::string_view project,
                                  std::string_view user) const {
  return impl_->FairShareFactor(org, project, user);
}

}  // namespace openlab::compute
