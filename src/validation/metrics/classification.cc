#include "validation/metrics/classification.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

namespace openlab::validation::metrics {
namespace {

// ---------------------------------------------------------------- numpy's arithmetic

// numpy's pairwise summation (the order np.sum and np.mean use on a contiguous float64 array):
// blocks of at most 128 summed with 8 accumulators, larger ranges split in two at a multiple
// of 8. `f(i)` is element i.
template <typename F>
double PairwiseSumRange(size_t lo, size_t n, const F& f) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += f(lo + i);
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (size_t j = 0; j < 8; ++j) r[j] = f(lo + j);
    const size_t m = n - n % 8;
    for (size_t i = 8; i < m; i += 8) {
      for (size_t j = 0; j < 8; ++j) r[j] += f(lo + i + j);
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (size_t i = m; i < n; ++i) res += f(lo + i);
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSumRange(lo, n2, f) + PairwiseSumRange(lo + n2, n - n2, f);
}

template <typename F>
double PairwiseSum(size_t n, const F& f) {
  return PairwiseSumRange(0, n, f);
}

double PairwiseSum(const std::vector<double>& v) {
  return PairwiseSum(v.size(), [&](size_t i) { return v[i]; });
}

// np.average(values, weights): sum(v * w) / sum(w), or the mean without weights.
template <typename F>
StatusOr<double> NpAverage(size_t n, const F& value, std::span<const double> weights) {
  if (weights.empty()) return PairwiseSum(n, value) / static_cast<double>(n);
  const double scale = PairwiseSum(n, [&](size_t i) { return weights[i]; });
  if (scale == 0.0) {
    return InvalidArgument("sample_weight sums to zero: the weighted average is undefined");
  }
  return PairwiseSum(n, [&](size_t i) { return value(i) * weights[i]; }) / scale;
}

StatusOr<double> NpAverage(const std::vector<double>& v, std::span<const double> weights) {
  return NpAverage(
      v.size(), [&](size_t i) { return v[i]; }, weights);
}

// ---------------------------------------------------------------- checks

Status CheckLengths(size_t n_true, size_t n_pred, const char* what) {
  if (n_true == 0) return InvalidArgument("y_true is empty: there is nothing to score");
  if (n_true != n_pred) {
    return InvalidArgument("y_true has " + std::to_string(n_true) + " rows but " + what + " has " +
                           std::to_string(n_pred));
  }
  return Status::Ok();
}

Status CheckWeights(std::span<const double> w, size_t n) {
  if (w.empty()) return Status::Ok();
  if (w.size() != n) {
    return InvalidArgument("sample_weight has " + std::to_string(w.size()) +
                           " entries but y_true has " + std::to_string(n) + " rows");
  }
  for (size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) {
      return InvalidArgument("sample_weight[" + std::to_string(i) + "] is not finite");
    }
  }
  return Status::Ok();
}

Status CheckFinite(std::span<const double> v, const char* what) {
  bool bad = false;
  for (double x : v) bad |= !std::isfinite(x);
  if (!bad) return Status::Ok();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgument(std::string(what) + "[" + std::to_string(i) + "] is " +
                             (std::isnan(v[i]) ? "NaN" : "infinite") +
                             ": scores must be finite numbers");
    }
  }
  return Status::Ok();
}

Status CheckProbabilities(std::span<const double> v, const char* what) {
  bool bad = false;
  for (double x : v) bad |= !((x >= 0.0) & (x <= 1.0));  // NaN and infinities too
  if (!bad) return Status::Ok();
  RETURN_IF_ERROR(CheckFinite(v, what));
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0.0 || v[i] > 1.0) {
      return InvalidArgument(std::string(what) + "[" + std::to_string(i) + "] = " +
                             std::to_string(v[i]) + " is not a probability (outside [0, 1])");
    }
  }
  return Status::Ok();
}

Status CheckScoreMatrix(const ScoreMatrix& m, size_t rows, const char* what) {
  if (m.cols == 0) return InvalidArgument(std::string(what) + " has no columns");
  if (m.values.size() != rows * m.cols) {
    return InvalidArgument(std::string(what) + " holds " + std::to_string(m.values.size()) +
                           " values, not rows x cols = " + std::to_string(rows) + " x " +
                           std::to_string(m.cols));
  }
  return Status::Ok();
}

std::string LabelList(const std::vector<Label>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// ---------------------------------------------------------------- class sets

// The distinct values of a and b when there are at most two (sorted), else nullopt: one pass
// once the second value is found, the common case of binary targets.
std::optional<std::vector<Label>> AtMostTwoLabels(std::span<const Label> a,
                                                  std::span<const Label> b) {
  std::vector<Label> found;
  for (std::span<const Label> s : {a, b}) {
    size_t i = 0;
    while (found.size() < 2 && i < s.size()) {
      if (found.empty() || s[i] != found[0]) found.push_back(s[i]);
      ++i;
    }
    if (found.size() == 2) {
      const Label x = found[0], y = found[1];
      bool other = false;
      for (; i < s.size(); ++i) other |= (s[i] != x) & (s[i] != y);
      if (other) return std::nullopt;
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// The sorted distinct labels of one or two arrays (np.union1d / unique_labels).
std::vector<Label> UniqueLabels(std::span<const Label> a, std::span<const Label> b = {}) {
  if (auto few = AtMostTwoLabels(a, b)) return *std::move(few);
  Label lo = std::numeric_limits<Label>::max(), hi = std::numeric_limits<Label>::min();
  for (Label x : a) lo = std::min(lo, x), hi = std::max(hi, x);
  for (Label x : b) lo = std::min(lo, x), hi = std::max(hi, x);
  std::vector<Label> out;
  if (a.empty() && b.empty()) return out;
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range < (uint64_t{1} << 22)) {
    std::vector<uint8_t> seen(range + 1, 0);
    for (Label x : a) seen[static_cast<uint64_t>(x) - static_cast<uint64_t>(lo)] = 1;
    for (Label x : b) seen[static_cast<uint64_t>(x) - static_cast<uint64_t>(lo)] = 1;
    for (uint64_t i = 0; i <= range; ++i) {
      if (seen[i]) out.push_back(static_cast<Label>(static_cast<uint64_t>(lo) + i));
    }
    return out;
  }
  out.assign(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Label -> position in a class list (any order); -1 when absent.
class LabelIndex {
 public:
  explicit LabelIndex(const std::vector<Label>& classes) {
    if (classes.empty()) return;
    lo_ = *std::min_element(classes.begin(), classes.end());
    const Label hi = *std::max_element(classes.begin(), classes.end());
    const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo_);
    if (range <= 4 * classes.size() + 1024) {
      dense_.assign(range + 1, -1);
      for (size_t i = 0; i < classes.size(); ++i) {
        int32_t& slot = dense_[static_cast<uint64_t>(classes[i]) - static_cast<uint64_t>(lo_)];
        if (slot < 0) slot = static_cast<int32_t>(i);
      }
    } else {
      for (size_t i = 0; i < classes.size(); ++i) sparse_.emplace(classes[i], i);
    }
  }
  int64_t Find(Label x) const {
    if (!dense_.empty()) {
      const uint64_t off = static_cast<uint64_t>(x) - static_cast<uint64_t>(lo_);
      return off < dense_.size() ? dense_[off] : -1;
    }
    auto it = sparse_.find(x);
    return it == sparse_.end() ? -1 : static_cast<int64_t>(it->second);
  }

 private:
  Label lo_ = 0;
  std::vector<int32_t> dense_;
  std::unordered_map<Label, size_t> sparse_;
};

bool Contains(const std::vector<Label>& sorted, Label x) {
  return std::binary_search(sorted.begin(), sorted.end(), x);
}

// ---------------------------------------------------------------- per-class counts

struct Counts {
  std::vector<double> tp, pred, truth;
};

// Counts of `classes` (in that order) over 1-D targets; rows of other labels are not counted.
Counts CountPerClass(std::span<const Label> y_true, std::span<const Label> y_pred,
                     const std::vector<Label>& classes, std::span<const double> w) {
  Counts c;
  const size_t k = classes.size();
  c.tp.assign(k, 0.0);
  c.pred.assign(k, 0.0);
  c.truth.assign(k, 0.0);
  LabelIndex index(classes);
  for (size_t i = 0; i < y_true.size(); ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    const int64_t t = index.Find(y_true[i]);
    const int64_t p = index.Find(y_pred[i]);
    if (t >= 0) c.truth[t] += wi;
    if (p >= 0) c.pred[p] += wi;
    if (t >= 0 && y_true[i] == y_pred[i]) c.tp[t] += wi;
  }
  return c;
}

// precision_recall_fscore_support from the per-class counts (zero_division="warn" -> 0).
struct PrfResult {
  double precision, recall, fscore;
};

PrfPerClass PerClassFromCounts(const Counts& c, double beta) {
  PrfPerClass r;
  const double beta2 = beta * beta;
  const size_t k = c.tp.size();
  for (size_t i = 0; i < k; ++i) {
    const double p = c.pred[i] != 0 ? c.tp[i] / c.pred[i] : 0.0;
    const double rc = c.truth[i] != 0 ? c.tp[i] / c.truth[i] : 0.0;
    double f;
    if (std::isinf(beta)) {
      f = rc;
    } else {
      double denom = beta2 * p + rc;
      if (denom == 0.0) denom = 1;
      f = (1 + beta2) * p * rc / denom;
    }
    r.precision.push_back(p);
    r.recall.push_back(rc);
    r.fscore.push_back(f);
    r.support.push_back(c.truth[i]);
  }
  return r;
}

StatusOr<PrfResult> AverageCounts(Counts c, Average average, double beta,
                                  std::span<const double> sample_weight) {
  if (average == Average::kMicro) {
    c.tp = {PairwiseSum(c.tp)};
    c.pred = {PairwiseSum(c.pred)};
    c.truth = {PairwiseSum(c.truth)};
  }
  PrfPerClass r = PerClassFromCounts(c, beta);
  std::span<const double> weights;
  if (average == Average::kWeighted) {
    if (PairwiseSum(c.truth) == 0) return PrfResult{0.0, 0.0, 0.0};
    weights = c.truth;
  } else if (average == Average::kSamples) {
    weights = sample_weight;
  }
  ASSIGN_OR_RETURN(double p, NpAverage(r.precision, weights));
  ASSIGN_OR_RETURN(double rc, NpAverage(r.recall, weights));
  ASSIGN_OR_RETURN(double f, NpAverage(r.fscore, weights));
  return PrfResult{p, rc, f};
}

Status CheckBeta(double beta) {
  if (std::isnan(beta) || beta < 0) {
    return InvalidArgument("beta should be >=0 in the F-beta score");
  }
  return Status::Ok();
}

// The classes scored for 1-D targets, or the refusal scikit-learn makes.
StatusOr<std::vector<Label>> SetWiseLabels(std::span<const Label> y_true,
                                           std::span<const Label> y_pred, const PrfOptions& o,
                                           bool per_class) {
  RETURN_IF_ERROR(CheckLengths(y_true.size(), y_pred.size(), "y_pred"));
  RETURN_IF_ERROR(CheckWeights(o.sample_weight, y_true.size()));
  RETURN_IF_ERROR(CheckBeta(o.beta));
  std::vector<Label> present = UniqueLabels(y_true, y_pred);
  if (!per_class && o.average == Average::kBinary) {
    if (present.size() > 2) {
      return InvalidArgument(
          "Target is multiclass but average='binary'. Please choose another average setting, "
          "one of [None, 'micro', 'macro', 'weighted'].");
    }
    if (!Contains(present, o.pos_label) && present.size() >= 2) {
      return InvalidArgument("pos_label=" + std::to_string(o.pos_label) +
                             " is not a valid label. It should be one of " + LabelList(present));
    }
    return std::vector<Label>{o.pos_label};
  }
  if (!per_class && o.average == Average::kSamples) {
    return InvalidArgument(
        "Samplewise metrics are not available outside of multilabel classification.");
  }
  if (o.labels) return *o.labels;
  return present;
}

StatusOr<PrfResult> Prf(std::span<const Label> y_true, std::span<const Label> y_pred,
                        const PrfOptions& o) {
  ASSIGN_OR_RETURN(std::vector<Label> classes, SetWiseLabels(y_true, y_pred, o, false));
  if (o.average == Average::kBinary && o.sample_weight.empty()) {
    // The fast path of one class: three counts in one pass.
    const Label pos = classes[0];
    uint64_t tp = 0, pred = 0, truth = 0;
    for (size_t i = 0; i < y_true.size(); ++i) {
      const uint64_t t = y_true[i] == pos, p = y_pred[i] == pos;
      tp += t & p;
      pred += p;
      truth += t;
    }
    Counts c{{static_cast<double>(tp)}, {static_cast<double>(pred)}, {static_cast<double>(truth)}};
    return AverageCounts(std::move(c), o.average, o.beta, {});
  }
  Counts c = CountPerClass(y_true, y_pred, classes, o.sample_weight);
  return AverageCounts(std::move(c), o.average, o.beta, o.sample_weight);
}

// ---------------------------------------------------------------- multilabel

Status CheckLabelMatrices(const LabelMatrix& a, const LabelMatrix& b) {
  if (a.cols < 2 || b.cols < 2) {
    return InvalidArgument("a multilabel indicator matrix needs at least 2 columns");
  }
  if (a.values.size() % a.cols != 0 || b.values.size() % b.cols != 0) {
    return InvalidArgument("an indicator matrix's size is not a multiple of its columns");
  }
  RETURN_IF_ERROR(CheckLengths(a.values.size() / a.cols, b.values.size() / b.cols, "y_pred"));
  if (a.cols != b.cols) {
    return InvalidArgument("y_true has " + std::to_string(a.cols) + " labels but y_pred has " +
                           std::to_string(b.cols));
  }
  for (const LabelMatrix* m : {&a, &b}) {
    for (int8_t v : m->values) {
      if (v != 0 && v != 1) {
        return InvalidArgument("a multilabel indicator matrix holds only 0 and 1");
      }
    }
  }
  return Status::Ok();
}

StatusOr<PrfResult> PrfMultilabel(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                                  const PrfOptions& o, PrfPerClass* per_class) {
  RETURN_IF_ERROR(CheckLabelMatrices(y_true, y_pred));
  const size_t n = y_true.values.size() / y_true.cols, L = y_true.cols;
  RETURN_IF_ERROR(CheckWeights(o.sample_weight, n));
  RETURN_IF_ERROR(CheckBeta(o.beta));
  if (!per_class && o.average == Average::kBinary) {
    return InvalidArgument(
        "Target is multilabel-indicator but average='binary'. Please choose another average "
        "setting, one of [None, 'micro', 'macro', 'weighted', 'samples'].");
  }
  std::vector<Label> cols;
  if (o.labels) {
    cols = *o.labels;
    if (cols.empty()) return InvalidArgument("'labels' should contains at least one label.");
    const Label hi = *std::max_element(cols.begin(), cols.end());
    const Label lo = *std::min_element(cols.begin(), cols.end());
    if (hi > static_cast<Label>(L) - 1) {
      return InvalidArgument("All labels must be in [0, n labels) for multilabel targets. Got " +
                             std::to_string(hi) + " > " + std::to_string(L - 1));
    }
    if (lo < 0) {
      return InvalidArgument("All labels must be in [0, n labels) for multilabel targets. Got " +
                             std::to_string(lo) + " < 0");
    }
  } else {
    for (size_t j = 0; j < L; ++j) cols.push_back(static_cast<Label>(j));
  }
  const std::span<const double> w = o.sample_weight;
  if (!per_class && o.average == Average::kSamples) {
    // Per row over the chosen columns; counts times the row's weight, as scikit-learn does.
    Counts c;
    for (size_t i = 0; i < n; ++i) {
      double tp = 0, pred = 0, truth = 0;
      for (Label j : cols) {
        const int8_t t = y_true.values[i * L + j], p = y_pred.values[i * L + j];
        tp += t & p;
        pred += p;
        truth += t;
      }
      const double wi = w.empty() ? 1.0 : w[i];
      c.tp.push_back(tp * wi);
      c.pred.push_back(pred * wi);
      c.truth.push_back(truth * wi);
    }
    return AverageCounts(std::move(c), Average::kSamples, o.beta, w);
  }
  Counts c;
  const size_t k = cols.size();
  c.tp.assign(k, 0.0);
  c.pred.assign(k, 0.0);
  c.truth.assign(k, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    for (size_t q = 0; q < k; ++q) {
      const int8_t t = y_true.values[i * L + cols[q]], p = y_pred.values[i * L + cols[q]];
      if (t & p) c.tp[q] += wi;
      if (p) c.pred[q] += wi;
      if (t) c.truth[q] += wi;
    }
  }
  if (per_class) {
    *per_class = PerClassFromCounts(c, o.beta);
    return PrfResult{0, 0, 0};
  }
  return AverageCounts(std::move(c), o.average, o.beta, w);
}

// ---------------------------------------------------------------- confusion matrix

struct Confusion {
  size_t k = 0;
  std::vector<double> m;  // row-major k x k
};

StatusOr<Confusion> BuildConfusion(std::span<const Label> y_true, std::span<const Label> y_pred,
                                   const std::optional<std::vector<Label>>& labels,
                                   std::span<const double> w) {
  RETURN_IF_ERROR(CheckLengths(y_true.size(), y_pred.size(), "y_pred"));
  RETURN_IF_ERROR(CheckWeights(w, y_true.size()));
  std::vector<Label> classes;
  if (labels) {
    classes = *labels;
    if (classes.empty()) return InvalidArgument("'labels' should contains at least one label.");
    const std::vector<Label> present = UniqueLabels(y_true);
    bool any = false;
    for (Label l : classes) any |= Contains(present, l);
    if (!any) return InvalidArgument("At least one label specified must be in y_true");
  } else {
    classes = UniqueLabels(y_true, y_pred);
  }
  Confusion c;
  c.k = classes.size();
  c.m.assign(c.k * c.k, 0.0);
  LabelIndex index(classes);
  for (size_t i = 0; i < y_true.size(); ++i) {
    const int64_t t = index.Find(y_true[i]), p = index.Find(y_pred[i]);
    if (t < 0 || p < 0) continue;
    c.m[t * c.k + p] += w.empty() ? 1.0 : w[i];
  }
  return c;
}

// ---------------------------------------------------------------- binary curve

// A double's bit pattern mapped so that unsigned order is numeric order (-0.0 is 0.0).
inline uint64_t OrderedKey(double x) {
  const uint64_t bits = std::bit_cast<uint64_t>(x + 0.0);  // -0.0 + 0.0 is 0.0
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

inline double KeyValue(uint64_t key) {
  const uint64_t bits = (key >> 63) ? key & ~(uint64_t{1} << 63) : ~key;
  return std::bit_cast<double>(bits);
}

struct Group {
  uint64_t key;
  double acc[2];  // [0]: negatives' weight, [1]: positives'
};

// The key of no double that passes the finiteness check (a NaN's).
constexpr uint64_t kEmptyKey = ~uint64_t{0};
constexpr size_t kMaxHashedGroups = size_t{1} << 18;

inline size_t HashKey(uint64_t key, int shift) {
  return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift);
}

// Groups rows by distinct score into an open-addressing table; false when there are too many
// distinct scores for a table to pay (the caller then sorts).
template <typename RowFn>
bool GroupByHash(size_t n, const RowFn& row, std::vector<Group>* out) {
  int bits = 10;
  std::vector<Group> table(size_t{1} << bits, Group{kEmptyKey, {0, 0}});
  size_t size = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t key;
    int pos;
    double w;
    if (!row(i, &key, &pos, &w)) continue;
    size_t mask = table.size() - 1;
    size_t h = HashKey(key, 64 - bits);
    while (table[h].key != key && table[h].key != kEmptyKey) h = (h + 1) & mask;
    if (table[h].key == kEmptyKey) {
      if (2 * (size + 1) > table.size()) {
        if (size + 1 > kMaxHashedGroups) return false;
        ++bits;
        std::vector<Group> bigger(size_t{1} << bits, Group{kEmptyKey, {0, 0}});
        mask = bigger.size() - 1;
        for (const Group& g : table) {
          if (g.key == kEmptyKey) continue;
          size_t j = HashKey(g.key, 64 - bits);
          while (bigger[j].key != kEmptyKey) j = (j + 1) & mask;
          bigger[j] = g;
        }
        table.swap(bigger);
        h = HashKey(key, 64 - bits);
        while (table[h].key != kEmptyKey) h = (h + 1) & mask;
      }
      table[h].key = key;
      ++size;
    }
    table[h].acc[pos] += w;
  }
  out->clear();
  out->reserve(size);
  for (const Group& g : table) {
    if (g.key != kEmptyKey) out->push_back(g);
  }
  std::sort(out->begin(), out->end(), [](const Group& a, const Group& b) { return a.key > b.key; });
  return true;
}

// Groups rows by distinct score with an LSD radix sort (16-bit digits) of (key, row) pairs.
template <typename RowFn>
void GroupBySort(size_t n, const RowFn& row, std::vector<Group>* out) {
  struct Item {
    uint64_t key;
    uint32_t pos;
    double w;
  };
  std::vector<Item> a, b;
  a.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t key;
    int pos;
    double w;
    if (row(i, &key, &pos, &w)) a.push_back(Item{key, static_cast<uint32_t>(pos), w});
  }
  b.resize(a.size());
  std::vector<size_t> count(size_t{1} << 16);
  for (int shift = 0; shift < 64; shift += 16) {
    std::fill(count.begin(), count.end(), 0);
    for (const Item& it : a) ++count[(it.key >> shift) & 0xFFFF];
    if (!a.empty() && count[(a[0].key >> shift) & 0xFFFF] == a.size()) continue;
    size_t sum = 0;
    for (size_t& c : count) sum += std::exchange(c, sum);
    for (const Item& it : a) b[count[(it.key >> shift) & 0xFFFF]++] = it;
    a.swap(b);
  }
  out->clear();
  for (size_t i = a.size(); i-- > 0;) {
    if (out->empty() || out->back().key != a[i].key) out->push_back(Group{a[i].key, {0, 0}});
    out->back().acc[a[i].pos] += a[i].w;
  }
}

template <typename RowFn>
void CurveFromRows(size_t n, const RowFn& row, std::vector<double>* thresholds,
                   std::vector<double>* tps, std::vector<double>* fps) {
  std::vector<Group> groups;
  if (!GroupByHash(n, row, &groups)) GroupBySort(n, row, &groups);
  thresholds->resize(groups.size());
  tps->resize(groups.size());
  fps->resize(groups.size());
  double tp = 0, fp = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    tp += groups[i].acc[1];
    fp += groups[i].acc[0];
    (*thresholds)[i] = KeyValue(groups[i].key);
    (*tps)[i] = tp;
    (*fps)[i] = fp;
  }
}

const char kOneClass[] =
    "Only one class present in y_true. ROC AUC score is not defined in that case.";

}  // namespace

// The curve of rows (is_pos(i), score(i), weight(i)); scores already checked finite.
class BinaryCurveBuilder {
 public:
  template <typename PosFn, typename ScoreFn>
  static BinaryCurve Make(size_t n, const PosFn& is_pos, const ScoreFn& score,
                          std::span<const double> w) {
    BinaryCurve c;
    auto row = [&](size_t i, uint64_t* key, int* pos, double* wi) {
      *wi = w.empty() ? 1.0 : w[i];
      if (*wi == 0.0) return false;
      *key = OrderedKey(score(i));
      *pos = is_pos(i) ? 1 : 0;
      return true;
    };
    CurveFromRows(n, row, &c.thresholds_, &c.tps_, &c.fps_);
    return c;
  }
};

StatusOr<BinaryCurve> BinaryCurve::Build(std::span<const Label> y_true,
                                         std::span<const double> y_score, Label pos_label,
                                         std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckLengths(y_true.size(), y_score.size(), "y_score"));
  RETURN_IF_ERROR(CheckFinite(y_score, "y_score"));
  RETURN_IF_ERROR(CheckWeights(sample_weight, y_true.size()));
  return BinaryCurveBuilder::Make(
      y_true.size(), [&](size_t i) { return y_true[i] == pos_label; },
      [&](size_t i) { return y_score[i]; }, sample_weight);
}

StatusOr<double> BinaryCurve::RocAuc() const {
  if (tps_.empty() || tps_.back() <= 0 || fps_.back() <= 0) return InvalidArgument(kOneClass);
  // roc_curve(drop_intermediate=True): keep the ends and the corners.
  std::vector<double> fps{0.0}, tps{0.0};
  const size_t m = tps_.size();
  for (size_t i = 0; i < m; ++i) {
    bool keep = i == 0 || i + 1 == m || m <= 2;
    if (!keep) {
      keep = ((fps_[i + 1] - fps_[i]) - (fps_[i] - fps_[i - 1])) != 0 ||
             ((tps_[i + 1] - tps_[i]) - (tps_[i] - tps_[i - 1])) != 0;
    }
    if (keep) {
      fps.push_back(fps_[i]);
      tps.push_back(tps_[i]);
    }
  }
  const double fn = fps.back(), tn = tps.back();
  for (double& x : fps) x = x / fn;
  for (double& x : tps) x = x / tn;
  // np.trapz(tpr, fpr).
  return PairwiseSum(fps.size() - 1,
                     [&](size_t i) { return (fps[i + 1] - fps[i]) * (tps[i + 1] + tps[i]) / 2.0; });
}

double BinaryCurve::AveragePrecision() const {
  const size_t m = tps_.size();
  if (m == 0) return 0.0;
  const double last = tps_.back();
  auto precision = [&](size_t i) {
    const double ps = tps_[i] + fps_[i];
    return ps != 0 ? tps_[i] / ps : 0.0;
  };
  auto recall = [&](size_t i) { return last == 0 ? 1.0 : tps_[i] / last; };
  // precision_recall_curve reverses the points and appends (recall 0, precision 1); the
  // step integral is -sum(diff(recall) * precision[:-1]).
  return -PairwiseSum(m, [&](size_t j) {
    const size_t i = m - 1 - j;
    const double next_recall = j + 1 < m ? recall(i - 1) : 0.0;
    return (next_recall - recall(i)) * precision(i);
  });
}

// ---------------------------------------------------------------- label metrics

StatusOr<double> Accuracy(std::span<const Label> y_true, std::span<const Label> y_pred,
                          std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckLengths(y_true.size(), y_pred.size(), "y_pred"));
  RETURN_IF_ERROR(CheckWeights(sample_weight, y_true.size()));
  return NpAverage(
      y_true.size(), [&](size_t i) { return y_true[i] == y_pred[i] ? 1.0 : 0.0; }, sample_weight);
}

StatusOr<double> Accuracy(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                          std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckLabelMatrices(y_true, y_pred));
  const size_t L = y_true.cols, n = y_true.values.size() / L;
  RETURN_IF_ERROR(CheckWeights(sample_weight, n));
  return NpAverage(
      n,
      [&](size_t i) {
        return std::equal(y_true.values.begin() + i * L, y_true.values.begin() + (i + 1) * L,
                          y_pred.values.begin() + i * L)
                   ? 1.0
                   : 0.0;
      },
      sample_weight);
}

StatusOr<double> BalancedAccuracy(std::span<const Label> y_true, std::span<const Label> y_pred,
                                  std::span<const double> sample_weight, bool adjusted) {
  ASSIGN_OR_RETURN(Confusion c, BuildConfusion(y_true, y_pred, std::nullopt, sample_weight));
  std::vector<double> per_class;
  for (size_t i = 0; i < c.k; ++i) {
    const double row = PairwiseSum(c.k, [&](size_t j) { return c.m[i * c.k + j]; });
    const double v = c.m[i * c.k + i] / row;
    if (!std::isnan(v)) per_class.push_back(v);
  }
  if (per_class.empty()) return InvalidArgument("balanced accuracy: no class has any weight");
  double score = PairwiseSum(per_class) / static_cast<double>(per_class.size());
  if (adjusted) {
    if (per_class.size() == 1) {
      return InvalidArgument(
          "adjusted balanced accuracy is undefined when y_true holds one class (chance is 1)");
    }
    const double chance = 1.0 / static_cast<double>(per_class.size());
    score -= chance;
    score /= 1 - chance;
  }
  return score;
}

StatusOr<double> Precision(std::span<const Label> y_true, std::span<const Label> y_pred,
                           const PrfOptions& options) {
  ASSIGN_OR_RETURN(PrfResult r, Prf(y_true, y_pred, options));
  return r.precision;
}
StatusOr<double> Recall(std::span<const Label> y_true, std::span<const Label> y_pred,
                        const PrfOptions& options) {
  ASSIGN_OR_RETURN(PrfResult r, Prf(y_true, y_pred, options));
  return r.recall;
}
StatusOr<double> FBeta(std::span<const Label> y_true, std::span<const Label> y_pred,
                       const PrfOptions& options) {
  ASSIGN_OR_RETURN(PrfResult r, Prf(y_true, y_pred, options));
  return r.fscore;
}
StatusOr<double> F1(std::span<const Label> y_true, std::span<const Label> y_pred,
                    const PrfOptions& options) {
  PrfOptions o = options;
  o.beta = 1.0;
  return FBeta(y_true, y_pred, o);
}
StatusOr<PrfPerClass> PrecisionRecallFScorePerClass(std::span<const Label> y_true,
                                                    std::span<const Label> y_pred,
                                                    const PrfOptions& options) {
  ASSIGN_OR_RETURN(std::vector<Label> classes, SetWiseLabels(y_true, y_pred, options, true));
  return PerClassFromCounts(CountPerClass(y_true, y_pred, classes, options.sample_weight),
                            options.beta);
}

StatusOr<double> Precision(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                           const PrfOptions& options) {
  ASSIGN_OR_RETURN(PrfResult r, PrfMultilabel(y_true, y_pred, options, nullptr));
  return r.precision;
}
StatusOr<double> Recall(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                        const PrfOptions& options) {
  ASSIGN_OR_RETURN(PrfResult r, PrfMultilabel(y_true, y_pred, options, nullptr));
  return r.recall;
}
StatusOr<double> FBeta(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                       const PrfOptions& options) {
  ASSIGN_OR_RETURN(PrfResult r, PrfMultilabel(y_true, y_pred, options, nullptr));
  return r.fscore;
}
StatusOr<double> F1(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                    const PrfOptions& options) {
  PrfOptions o = options;
  o.beta = 1.0;
  return FBeta(y_true, y_pred, o);
}
StatusOr<PrfPerClass> PrecisionRecallFScorePerClass(const LabelMatrix& y_true,
                                                    const LabelMatrix& y_pred,
                                                    const PrfOptions& options) {
  PrfPerClass out;
  ASSIGN_OR_RETURN(PrfResult ignored, PrfMultilabel(y_true, y_pred, options, &out));
  (void)ignored;
  return out;
}

StatusOr<std::vector<double>> ConfusionMatrix(std::span<const Label> y_true,
                                              std::span<const Label> y_pred,
                                              std::optional<std::vector<Label>> labels,
                                              std::span<const double> sample_weight,
                                              Normalize normalize) {
  ASSIGN_OR_RETURN(Confusion c, BuildConfusion(y_true, y_pred, labels, sample_weight));
  const size_t k = c.k;
  std::vector<double> out = c.m;
  auto clean = [](double v) { return std::isnan(v) ? 0.0 : v; };
  if (normalize == Normalize::kTrue) {
    for (size_t i = 0; i < k; ++i) {
      const double s = PairwiseSum(k, [&](size_t j) { return c.m[i * k + j]; });
      for (size_t j = 0; j < k; ++j) out[i * k + j] = clean(c.m[i * k + j] / s);
    }
  } else if (normalize == Normalize::kPred) {
    for (size_t j = 0; j < k; ++j) {
      double s = 0;
      for (size_t i = 0; i < k; ++i) s += c.m[i * k + j];
      for (size_t i = 0; i < k; ++i) out[i * k + j] = clean(c.m[i * k + j] / s);
    }
  } else if (normalize == Normalize::kAll) {
    const double s = PairwiseSum(c.m);
    for (double& v : out) v = clean(v / s);
  }
  return out;
}

StatusOr<double> MatthewsCorrcoef(std::span<const Label> y_true, std::span<const Label> y_pred,
                                  std::span<const double> sample_weight) {
  ASSIGN_OR_RETURN(Confusion c, BuildConfusion(y_true, y_pred, std::nullopt, sample_weight));
  const size_t k = c.k;
  std::vector<double> t_sum(k), p_sum(k, 0.0);
  double n_correct = 0;
  for (size_t i = 0; i < k; ++i) {
    t_sum[i] = PairwiseSum(k, [&](size_t j) { return c.m[i * k + j]; });
    for (size_t j = 0; j < k; ++j) p_sum[j] += c.m[i * k + j];
    n_correct += c.m[i * k + i];
  }
  const double n = PairwiseSum(p_sum);
  double tp = 0, pp = 0, tt = 0;
  for (size_t i = 0; i < k; ++i) {
    tp += t_sum[i] * p_sum[i];
    pp += p_sum[i] * p_sum[i];
    tt += t_sum[i] * t_sum[i];
  }
  const double cov_ytyp = n_correct * n - tp;
  const double cov_ypyp = n * n - pp;
  const double cov_ytyt = n * n - tt;
  if (cov_ypyp * cov_ytyt == 0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

StatusOr<double> CohenKappa(std::span<const Label> y1, std::span<const Label> y2,
                            std::optional<std::vector<Label>> labels, KappaWeights weights,
                            std::span<const double> sample_weight) {
  ASSIGN_OR_RETURN(Confusion c, BuildConfusion(y1, y2, labels, sample_weight));
  const size_t k = c.k;
  std::vector<double> sum0(k, 0.0), sum1(k);
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < k; ++j) sum0[j] += c.m[i * k + j];
    sum1[i] = PairwiseSum(k, [&](size_t j) { return c.m[i * k + j]; });
  }
  const double total = PairwiseSum(sum0);
  auto w = [&](size_t i, size_t j) -> double {
    const double d = static_cast<double>(i) - static_cast<double>(j);
    switch (weights) {
      case KappaWeights::kNone:
        return i == j ? 0.0 : 1.0;
      case KappaWeights::kLinear:
        return std::abs(d);
      case KappaWeights::kQuadratic:
        return d * d;
    }
    return 0.0;
  };
  const double observed = PairwiseSum(k * k, [&](size_t q) { return w(q / k, q % k) * c.m[q]; });
  const double expected = PairwiseSum(
      k * k, [&](size_t q) { return w(q / k, q % k) * (sum0[q / k] * sum1[q % k] / total); });
  const double kappa = 1 - observed / expected;
  if (!std::isfinite(kappa)) {
    return InvalidArgument(
        "Cohen's kappa is undefined here: the agreement expected by chance is perfect (both "
        "raters use a single class)");
  }
  return kappa;
}

// ---------------------------------------------------------------- score metrics

StatusOr<double> RocAuc(std::span<const Label> y_true, std::span<const double> y_score,
                        std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckLengths(y_true.size(), y_score.size(), "y_score"));
  const std::optional<std::vector<Label>> classes = AtMostTwoLabels(y_true, {});
  if (classes && classes->size() == 1) return InvalidArgument(kOneClass);
  if (!classes) {
    return InvalidArgument(
        "y_true holds more than two classes: binary ROC AUC needs two (multiclass ROC AUC takes "
        "one score column per class)");
  }
  ASSIGN_OR_RETURN(BinaryCurve curve,
                   BinaryCurve::Build(y_true, y_score, classes->back(), sample_weight));
  return curve.RocAuc();
}

namespace {

// Rows of a ScoreMatrix summing to 1 within np.allclose (rtol 1e-5, atol 1e-8).
Status CheckRowsSumToOne(const ScoreMatrix& m) {
  const size_t k = m.cols, n = m.values.size() / k;
  for (size_t i = 0; i < n; ++i) {
    const double s = PairwiseSum(k, [&](size_t j) { return m.values[i * k + j]; });
    if (!(std::abs(1.0 - s) <= 1e-8 + 1e-5 * std::abs(s))) {
      return InvalidArgument(
          "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum "
          "up to 1.0 over classes");
    }
  }
  return Status::Ok();
}

// The classes of a score matrix's columns: `labels` (unique, sorted, covering y_true) or the
// classes of y_true.
StatusOr<std::vector<Label>> ColumnClasses(std::span<const Label> y_true, size_t cols,
                                           const std::optional<std::vector<Label>>& labels) {
  if (labels) {
    std::vector<Label> sorted = *labels;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return InvalidArgument("Parameter 'labels' must be unique");
    }
    if (sorted != *labels) return InvalidArgument("Parameter 'labels' must be ordered");
    if (sorted.size() != cols) {
      return InvalidArgument("Number of given labels, " + std::to_string(sorted.size()) +
                             ", not equal to the number of columns in 'y_score', " +
                             std::to_string(cols));
    }
    for (Label x : UniqueLabels(y_true)) {
      if (!Contains(sorted, x)) {
        return InvalidArgument("'y_true' contains labels not in parameter 'labels'");
      }
    }
    return sorted;
  }
  std::vector<Label> classes = UniqueLabels(y_true);
  if (classes.size() != cols) {
    return InvalidArgument("Number of classes in y_true (" + std::to_string(classes.size()) +
                           ") not equal to the number of columns in 'y_score' (" +
                           std::to_string(cols) + ")");
  }
  return classes;
}

}  // namespace

StatusOr<double> RocAucOvr(std::span<const Label> y_true, const ScoreMatrix& y_score,
                           Average average, std::optional<std::vector<Label>> labels,
                           std::span<const double> sample_weight) {
  const size_t n = y_true.size();
  if (n == 0) return InvalidArgument("y_true is empty: there is nothing to score");
  RETURN_IF_ERROR(CheckScoreMatrix(y_score, n, "y_score"));
  RETURN_IF_ERROR(CheckFinite(y_score.values, "y_score"));
  RETURN_IF_ERROR(CheckWeights(sample_weight, n));
  const size_t k = y_score.cols;
  if (k < 3) {
    return InvalidArgument(
        "one-vs-rest ROC AUC needs at least 3 score columns; with 2 classes use binary ROC AUC "
        "on the positive class's column");
  }
  RETURN_IF_ERROR(CheckRowsSumToOne(y_score));
  if (average != Average::kMacro && average != Average::kWeighted && average != Average::kMicro) {
    return InvalidArgument(
        "average must be one of ('micro', 'macro', 'weighted', None) for multiclass problems");
  }
  ASSIGN_OR_RETURN(std::vector<Label> classes, ColumnClasses(y_true, k, labels));
  LabelIndex index(classes);
  std::vector<int64_t> cls(n);
  for (size_t i = 0; i < n; ++i) cls[i] = index.Find(y_true[i]);
  if (average == Average::kMicro) {
    std::vector<double> w;
    if (!sample_weight.empty()) {
      w.resize(n * k);
      for (size_t q = 0; q < n * k; ++q) w[q] = sample_weight[q / k];
    }
    BinaryCurve curve = BinaryCurveBuilder::Make(
        n * k, [&](size_t q) { return cls[q / k] == static_cast<int64_t>(q % k); },
        [&](size_t q) { return y_score.values[q]; }, w);
    return curve.RocAuc();
  }
  std::vector<double> scores(k), weights(k, 0.0);
  for (size_t c = 0; c < k; ++c) {
    BinaryCurve curve = BinaryCurveBuilder::Make(
        n, [&](size_t i) { return cls[i] == static_cast<int64_t>(c); },
        [&](size_t i) { return y_score.values[i * k + c]; }, sample_weight);
    ASSIGN_OR_RETURN(scores[c], curve.RocAuc());
  }
  if (average == Average::kMacro) return NpAverage(scores, {});
  for (size_t i = 0; i < n; ++i) weights[cls[i]] += sample_weight.empty() ? 1.0 : sample_weight[i];
  if (std::abs(PairwiseSum(weights)) <= 1e-8) return 0.0;
  return NpAverage(scores, weights);
}

StatusOr<double> AveragePrecision(std::span<const Label> y_true, std::span<const double> y_score,
                                  Label pos_label, std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckLengths(y_true.size(), y_score.size(), "y_score"));
  const std::optional<std::vector<Label>> classes = AtMostTwoLabels(y_true, {});
  if (!classes) return InvalidArgument("multiclass format is not supported");
  if (classes->size() == 2 && !Contains(*classes, pos_label)) {
    return InvalidArgument("pos_label=" + std::to_string(pos_label) +
                           " is not a valid label. It should be one of " + LabelList(*classes));
  }
  ASSIGN_OR_RETURN(BinaryCurve curve,
                   BinaryCurve::Build(y_true, y_score, pos_label, sample_weight));
  return curve.AveragePrecision();
}

StatusOr<double> AveragePrecision(const LabelMatrix& y_true, const ScoreMatrix& y_score,
                                  Average average, std::span<const double> sample_weight) {
  if (y_true.cols < 2 || y_true.values.size() % y_true.cols != 0) {
    return InvalidArgument("a multilabel indicator matrix needs at least 2 columns");
  }
  const size_t L = y_true.cols, n = y_true.values.size() / L;
  if (n == 0) return InvalidArgument("y_true is empty: there is nothing to score");
  if (y_score.cols != L) {
    return InvalidArgument("y_score has " + std::to_string(y_score.cols) +
                           " columns but y_true has " + std::to_string(L));
  }
  RETURN_IF_ERROR(CheckScoreMatrix(y_score, n, "y_score"));
  RETURN_IF_ERROR(CheckFinite(y_score.values, "y_score"));
  RETURN_IF_ERROR(CheckWeights(sample_weight, n));
  for (int8_t v : y_true.values) {
    if (v != 0 && v != 1)
      return InvalidArgument("a multilabel indicator matrix holds only 0 and 1");
  }
  auto truth = [&](size_t q) { return y_true.values[q] == 1; };
  auto score = [&](size_t q) { return y_score.values[q]; };
  if (average == Average::kMicro) {
    std::vector<double> w;
    if (!sample_weight.empty()) {
      w.resize(n * L);
      for (size_t q = 0; q < n * L; ++q) w[q] = sample_weight[q / L];
    }
    return BinaryCurveBuilder::Make(n * L, truth, score, w).AveragePrecision();
  }
  if (average == Average::kSamples) {
    std::vector<double> scores(n);
    for (size_t i = 0; i < n; ++i) {
      scores[i] = BinaryCurveBuilder::Make(
                      L, [&](size_t j) { return truth(i * L + j); },
                      [&](size_t j) { return score(i * L + j); }, {})
                      .AveragePrecision();
    }
    if (!sample_weight.empty()) {
      for (size_t i = 0; i < n; ++i) {
        if (sample_weight[i] == 0) scores[i] = 0;
      }
    }
    return NpAverage(scores, sample_weight);
  }
  if (average != Average::kMacro && average != Average::kWeighted) {
    return InvalidArgument(
        "average has to be one of (None, 'micro', 'macro', 'weighted', 'samples')");
  }
  std::vector<double> scores(L), weights(L, 0.0);
  for (size_t c = 0; c < L; ++c) {
    scores[c] = BinaryCurveBuilder::Make(
                    n, [&](size_t i) { return truth(i * L + c); },
                    [&](size_t i) { return score(i * L + c); }, sample_weight)
                    .AveragePrecision();
  }
  if (average == Average::kMacro) return NpAverage(scores, {});
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < L; ++c) {
      weights[c] += y_true.values[i * L + c] * (sample_weight.empty() ? 1.0 : sample_weight[i]);
    }
  }
  if (std::abs(PairwiseSum(weights)) <= 1e-8) return 0.0;
  for (size_t c = 0; c < L; ++c) {
    if (weights[c] == 0) scores[c] = 0;
  }
  return NpAverage(scores, weights);
}

StatusOr<double> LogLoss(std::span<const Label> y_true, const ScoreMatrix& y_prob,
                         std::optional<std::vector<Label>> labels,
                         std::span<const double> sample_weight) {
  const size_t n = y_true.size();
  if (n == 0) return InvalidArgument("y_true is empty: there is nothing to score");
  RETURN_IF_ERROR(CheckScoreMatrix(y_prob, n, "y_prob"));
  RETURN_IF_ERROR(CheckProbabilities(y_prob.values, "y_prob"));
  RETURN_IF_ERROR(CheckWeights(sample_weight, n));
  std::vector<Label> classes;
  if (labels) {
    classes = *labels;
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  } else {
    classes = UniqueLabels(y_true);
  }
  if (classes.size() <= 1) {
    if (!labels) {
      return InvalidArgument("y_true contains only one label (" +
                             (classes.empty() ? std::string() : std::to_string(classes[0])) +
                             "). Please provide the true labels explicitly through the labels "
                             "argument.");
    }
    return InvalidArgument(
        "The labels array needs to contain at least two labels for log_loss, got " +
        LabelList(classes) + ".");
  }
  const size_t k = y_prob.cols == 1 ? 2 : y_prob.cols;
  if (classes.size() != k) {
    if (!labels) {
      return InvalidArgument("y_true and y_pred contain different number of classes " +
                             std::to_string(classes.size()) + ", " + std::to_string(k) +
                             ". Please provide the true labels explicitly through the labels "
                             "argument. Classes found in y_true: " +
                             LabelList(classes));
    }
    return InvalidArgument(
        "The number of classes in labels is different from that in y_pred. Classes found in "
        "labels: " +
        LabelList(classes));
  }
  auto clip = [](double p) {
    constexpr double kEps = std::numeric_limits<double>::epsilon();
    return std::min(std::max(p, kEps), 1 - kEps);
  };
  if (y_prob.cols == 1) {
    const Label lo = classes[0], hi = classes[1];
    for (size_t i = 0; labels && i < n; ++i) {  // without labels, classes come from y_true
      if (y_true[i] != lo && y_true[i] != hi) {
        return InvalidArgument("y_true[" + std::to_string(i) + "] = " + std::to_string(y_true[i]) +
                               " is not among the labels " + LabelList(classes));
      }
    }
    // Each row's loss depends only on (p, class): a small direct-mapped cache of the two
    // losses per distinct p spares a logarithm per row when scores repeat.
    struct Entry {
      uint64_t bits;
      double loss[2];
    };
    constexpr int kCacheBits = 16;
    std::vector<Entry> cache(size_t{1} << kCacheBits, Entry{kEmptyKey, {0, 0}});
    auto loss = [&](size_t i) {
      const double p = y_prob.values[i];
      const uint64_t bits = std::bit_cast<uint64_t>(p);
      Entry& e = cache[HashKey(bits, 64 - kCacheBits)];
      if (e.bits != bits) {
        const double q1 = clip(p);
        const double q0 = 1 - q1;
        const double s = q0 + q1;
        e.bits = bits;
        e.loss[0] = -std::log(q0 / s);
        e.loss[1] = -std::log(q1 / s);
      }
      return e.loss[y_true[i] == hi];
    };
    return NpAverage(n, loss, sample_weight);
  }
  LabelIndex index(classes);
  std::vector<int64_t> cls(n);
  for (size_t i = 0; i < n; ++i) {
    cls[i] = index.Find(y_true[i]);
    if (cls[i] < 0) {
      return InvalidArgument("y_true[" + std::to_string(i) + "] = " + std::to_string(y_true[i]) +
                             " is not among the labels " + LabelList(classes));
    }
  }
  auto loss = [&](size_t i) {
    const double* row = y_prob.values.data() + i * k;
    const double s = PairwiseSum(k, [&](size_t j) { return clip(row[j]); });
    return -std::log(clip(row[cls[i]]) / s);
  };
  return NpAverage(n, loss, sample_weight);
}

StatusOr<double> BrierScore(std::span<const Label> y_true, std::span<const double> y_prob,
                            std::optional<Label> pos_label, std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckLengths(y_true.size(), y_prob.size(), "y_prob"));
  RETURN_IF_ERROR(CheckFinite(y_prob, "y_prob"));
  RETURN_IF_ERROR(CheckWeights(sample_weight, y_true.size()));
  const std::vector<Label> classes = UniqueLabels(y_true);
  if (classes.size() > 2) {
    return InvalidArgument(
        "Only binary classification is supported. The type of the target is multiclass.");
  }
  const auto [lo, hi] = std::minmax_element(y_prob.begin(), y_prob.end());
  if (*hi > 1) return InvalidArgument("y_prob contains values greater than 1.");
  if (*lo < 0) return InvalidArgument("y_prob contains values less than 0.");
  Label pos;
  if (pos_label) {
    pos = *pos_label;
  } else {
    const std::vector<std::vector<Label>> standard = {{0, 1}, {-1, 1}, {0}, {-1}, {1}};
    pos =
        std::find(standard.begin(), standard.end(), classes) != standard.end() ? 1 : classes.back();
  }
  return NpAverage(
      y_true.size(),
      [&](size_t i) {
        const double d = (y_true[i] == pos ? 1.0 : 0.0) - y_prob[i];
        return d * d;
      },
      sample_weight);
}

StatusOr<double> TopKAccuracy(std::span<const Label> y_true, const ScoreMatrix& y_score, int k,
                              std::optional<std::vector<Label>> labels,
                              std::span<const double> sample_weight) {
  const size_t n = y_true.size();
  if (n == 0) return InvalidArgument("y_true is empty: there is nothing to score");
  if (k < 1) return InvalidArgument("k must be at least 1, got " + std::to_string(k));
  RETURN_IF_ERROR(CheckScoreMatrix(y_score, n, "y_score"));
  RETURN_IF_ERROR(CheckFinite(y_score.values, "y_score"));
  RETURN_IF_ERROR(CheckWeights(sample_weight, n));
  const std::vector<Label> present = UniqueLabels(y_true);
  const bool binary = present.size() <= 2 && !(labels && labels->size() > 2);
  if (binary && y_score.cols != 1) {
    return InvalidArgument("`y_true` is binary while y_score is 2d with " +
                           std::to_string(y_score.cols) +
                           " classes. If `y_true` does not contain all the labels, `labels` "
                           "must be provided.");
  }
  const size_t n_score_classes = y_score.cols == 1 ? 2 : y_score.cols;
  std::vector<Label> classes;
  if (labels) {
    classes = *labels;
    std::sort(classes.begin(), classes.end());
    if (std::adjacent_find(classes.begin(), classes.end()) != classes.end()) {
      return InvalidArgument("Parameter 'labels' must be unique.");
    }
    if (classes != *labels) return InvalidArgument("Parameter 'labels' must be ordered.");
    if (classes.size() != n_score_classes) {
      return InvalidArgument("Number of given labels (" + std::to_string(classes.size()) +
                             ") not equal to the number of classes in 'y_score' (" +
                             std::to_string(n_score_classes) + ").");
    }
    for (Label x : present) {
      if (!Contains(classes, x)) {
        return InvalidArgument("'y_true' contains labels not in parameter 'labels'.");
      }
    }
  } else {
    classes = present;
    if (classes.size() != n_score_classes) {
      return InvalidArgument("Number of classes in 'y_true' (" + std::to_string(classes.size()) +
                             ") not equal to the number of classes in 'y_score' (" +
                             std::to_string(n_score_classes) +
                             ").You can provide a list of all known classes by assigning it "
                             "to the `labels` parameter.");
    }
  }
  LabelIndex index(classes);
  const size_t cols = y_score.cols;
  if (binary) {
    const auto [lo, hi] = std::minmax_element(y_score.values.begin(), y_score.values.end());
    const double threshold = (*lo >= 0 && *hi <= 1) ? 0.5 : 0.0;
    return NpAverage(
        n,
        [&](size_t i) {
          if (k >= 2) return 1.0;
          const int64_t pred = y_score.values[i] > threshold ? 1 : 0;
          return pred == index.Find(y_true[i]) ? 1.0 : 0.0;
        },
        sample_weight);
  }
  return NpAverage(
      n,
      [&](size_t i) {
        const int64_t c = index.Find(y_true[i]);
        const double* row = y_score.values.data() + i * cols;
        const double s = row[c];
        // Columns ranked above c: greater scores, and equal scores in later columns.
        size_t above = 0;
        for (size_t j = 0; j < cols; ++j) {
          above += (row[j] > s) || (row[j] == s && static_cast<int64_t>(j) > c);
        }
        return above < static_cast<size_t>(k) ? 1.0 : 0.0;
      },
      sample_weight);
}

}  // namespace openlab::validation::metrics
