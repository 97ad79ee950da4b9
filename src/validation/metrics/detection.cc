#include "validation/metrics/detection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace openlab::validation::metrics {
namespace {

constexpr int kT = 10;   // IoU thresholds
constexpr int kR = 101;  // recall thresholds
constexpr int kA = 4;    // area ranges: all, small, medium, large
constexpr int kM = 3;    // maxDets 1, 10, 100
constexpr std::array<int, kM> kMaxDets = {1, 10, 100};
constexpr int kMaxDetsPerCell = 100;
constexpr std::array<std::array<double, 2>, kA> kAreaRanges = {
    {{0.0, 1e10}, {0.0, 32.0 * 32.0}, {32.0 * 32.0, 96.0 * 96.0}, {96.0 * 96.0, 1e10}}};

// The state of one detection at one (area range, IoU threshold), as accumulate() reads it.
enum : uint8_t { kFalsePositive = 0, kTruePositive = 1, kIgnored = 2 };

bool OutsideRange(double area, int a) {
  return area < kAreaRanges[a][0] || area > kAreaRanges[a][1];
}

// bbIou of pycocotools' maskApi.c for one pair, in its order of operations.
double BoxIou(const CocoBox& d, const CocoBox& g, bool crowd) {
  const double w = std::fmin(d[2] + d[0], g[2] + g[0]) - std::fmax(d[0], g[0]);
  if (w <= 0) return 0;
  const double h = std::fmin(d[3] + d[1], g[3] + g[1]) - std::fmax(d[1], g[1]);
  if (h <= 0) return 0;
  const double i = w * h;
  const double da = d[2] * d[3];
  const double u = crowd ? da : da + g[2] * g[3] - i;
  return i / u;
}

// numpy's pairwise summation of a contiguous float64 run (umath loops, unrolled by 8, blocks
// of 128), as np.add.reduce applies it per buffer of 8192 elements.
double PairwiseSum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSum(a, n2) + PairwiseSum(a + n2, n - n2);
}

// np.mean(s[s > -1]) for the values in `s` (already in numpy's C order), -1 when none is > -1.
double MeanOfDefined(const std::vector<double>& s) {
  std::vector<double> kept;
  kept.reserve(s.size());
  for (double v : s) {
    if (v > -1) kept.push_back(v);
  }
  if (kept.empty()) return -1;
  constexpr size_t kBuffer = 8192;
  double sum = 0.;
  for (size_t start = 0; start < kept.size(); start += kBuffer) {
    sum += PairwiseSum(kept.data() + start, std::min(kBuffer, kept.size() - start));
  }
  return sum / static_cast<double>(kept.size());
}

// True when every coordinate, both far corners and the area are finite.
bool FiniteBox(const CocoBox& b) {
  return std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3]) &&
         std::isfinite(b[0] + b[2]) && std::isfinite(b[1] + b[3]) && std::isfinite(b[2] * b[3]);
}

Status CheckBox(const CocoBox& b, const std::string& where) {
  if (!std::isfinite(b[0]) || !std::isfinite(b[1]) || !std::isfinite(b[2]) ||
      !std::isfinite(b[3])) {
    return InvalidArgument(
        fmt::format("{}: bbox [{}, {}, {}, {}] has a coordinate that is not a finite number", where,
                    b[0], b[1], b[2], b[3]));
  }
  if (b[2] < 0 || b[3] < 0) {
    return InvalidArgument(
        fmt::format("{}: bbox [{}, {}, {}, {}] has a negative width or height (the format is "
                    "[x, y, width, height])",
                    where, b[0], b[1], b[2], b[3]));
  }
  // The sums and the area enter the IoU: an overflow to infinity would make it NaN.
  if (!std::isfinite(b[0] + b[2]) || !std::isfinite(b[1] + b[3]) || !std::isfinite(b[2] * b[3])) {
    return InvalidArgument(
        fmt::format("{}: bbox [{}, {}, {}, {}] is too large (its corner or area overflows)", where,
                    b[0], b[1], b[2], b[3]));
  }
  return Status::Ok();
}

// The evaluation state of one category: its detections (cut to 100 per image, in the order
// accumulate() concatenates them: image ascending, score descending within an image), and the
// number of non-ignored gt boxes per area range.
struct CategoryRecords {
  std::vector<double> score;
  std::vector<uint8_t> rank;                        // position within its image, 0..99
  std::vector<std::array<uint8_t, kA * kT>> state;  // [area][threshold]
  std::array<int64_t, kA> npig{};
};

struct CellScratch {
  std::vector<uint32_t> dets;  // indices into the detections
  std::vector<double> ious;    // [det][gt], gt in input order
  std::vector<uint8_t> gt_ignore;
  std::vector<uint32_t> gt_order;  // non-ignored first, each group in input order
  std::vector<uint8_t> gt_matched;
};

// evaluateImg for one image and category over every area range and threshold; appends the
// detections' states to `out`.
void EvaluateCell(const CocoGroundTruth& gt, std::span<const CocoDetection> detections,
                  std::span<const uint32_t> gts, std::span<const uint32_t> dets_in_input_order,
                  const std::array<double, kT>& iou_thresholds, CellScratch& s,
                  CategoryRecords& out) {
  // Highest score first, ties in input order (np.argsort(-score, kind='mergesort')), then cut.
  s.dets.assign(dets_in_input_order.begin(), dets_in_input_order.end());
  std::stable_sort(s.dets.begin(), s.dets.end(), [&](uint32_t x, uint32_t y) {
    return detections[x].score > detections[y].score;
  });
  if (s.dets.size() > kMaxDetsPerCell) s.dets.resize(kMaxDetsPerCell);
  const size_t num_d = s.dets.size();
  const size_t num_g = gts.size();

  s.ious.assign(num_d * num_g, 0.0);
  for (size_t d = 0; d < num_d; ++d) {
    const CocoBox& db = detections[s.dets[d]].bbox;
    for (size_t g = 0; g < num_g; ++g) {
      const CocoGroundTruthBox& gb = gt.annotations[gts[g]];
      s.ious[d * num_g + g] = BoxIou(db, gb.bbox, gb.iscrowd);
    }
  }

  const size_t first = out.score.size();
  for (size_t d = 0; d < num_d; ++d) {
    out.score.push_back(detections[s.dets[d]].score);
    out.rank.push_back(static_cast<uint8_t>(d));
    out.state.emplace_back();
  }

  s.gt_ignore.resize(num_g);
  s.gt_matched.resize(num_g);
  for (int a = 0; a < kA; ++a) {
    s.gt_order.clear();
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t g = 0; g < num_g; ++g) {
        const CocoGroundTruthBox& gb = gt.annotations[gts[g]];
        const bool ignore = gb.iscrowd || OutsideRange(gb.area, a);
        s.gt_ignore[g] = ignore;
        if (ignore == (pass == 1)) s.gt_order.push_back(static_cast<uint32_t>(g));
      }
    }
    for (size_t g = 0; g < num_g; ++g) out.npig[a] += s.gt_ignore[g] ? 0 : 1;

    for (int t = 0; t < kT; ++t) {
      std::fill(s.gt_matched.begin(), s.gt_matched.end(), 0);
      const double threshold = std::min(iou_thresholds[t], 1 - 1e-10);
      for (size_t d = 0; d < num_d; ++d) {
        const double* row = s.ious.data() + d * num_g;
        double best = threshold;
        int m = -1;  // position in gt_order
        for (size_t k = 0; k < num_g; ++k) {
          const uint32_t g = s.gt_order[k];
          const bool crowd = gt.annotations[gts[g]].iscrowd;
          if (s.gt_matched[k] && !crowd) continue;
          // Already matched to a regular gt: the ignored ones (sorted last) cannot win.
          if (m > -1 && !s.gt_ignore[s.gt_order[m]] && s.gt_ignore[g]) break;
          if (row[g] < best) continue;
          best = row[g];
          m = static_cast<int>(k);
        }
        uint8_t state;
        bool matched = false;
        if (m == -1) {
          state = kFalsePositive;
        } else {
          const uint32_t g = s.gt_order[m];
          s.gt_matched[m] = 1;
          // COCOeval records the matched gt's id and reads it as a truth value.
          matched = gt.annotations[gts[g]].id != 0;
          state = s.gt_ignore[g] ? kIgnored : (matched ? kTruePositive : kFalsePositive);
        }
        if (state == kFalsePositive && !matched) {
          const CocoBox& db = detections[s.dets[d]].bbox;
          if (OutsideRange(db[2] * db[3], a)) state = kIgnored;
        }
        out.state[first + d][a * kT + t] = state;
      }
    }
  }
}

}  // namespace

std::array<double, 10> CocoIouThresholds() {
  // np.linspace(.5, .95, 10): start + i * step, the last one exactly the stop.
  std::array<double, 10> out;
  const double step = (0.95 - 0.5) / 9;
  for (int i = 0; i < 9; ++i) out[i] = static_cast<double>(i) * step + 0.5;
  out[9] = 0.95;
  return out;
}

std::array<double, 101> CocoRecallThresholds() {
  std::array<double, 101> out;
  const double step = (1.0 - 0.0) / 100;
  for (int i = 0; i < 100; ++i) out[i] = static_cast<double>(i) * step + 0.0;
  out[100] = 1.0;
  return out;
}

StatusOr<CocoDetectionResult> EvaluateCocoBoxes(const CocoGroundTruth& ground_truth,
                                                std::span<const CocoDetection> detections,
                                                const CocoEvalOptions& options) {
  // --- checks and indices ---------------------------------------------------------------
  std::vector<int64_t> image_ids = ground_truth.image_ids;
  std::sort(image_ids.begin(), image_ids.end());
  for (size_t i = 1; i < image_ids.size(); ++i) {
    if (image_ids[i] == image_ids[i - 1]) {
      return InvalidArgument(
          fmt::format("ground truth: image id {} is listed more than once", image_ids[i]));
    }
  }
  std::vector<int64_t> category_ids;
  for (const CocoCategory& c : ground_truth.categories) category_ids.push_back(c.id);
  std::sort(category_ids.begin(), category_ids.end());
  for (size_t i = 1; i < category_ids.size(); ++i) {
    if (category_ids[i] == category_ids[i - 1]) {
      return InvalidArgument(
          fmt::format("ground truth: category id {} is listed more than once", category_ids[i]));
    }
  }
  std::unordered_map<int64_t, uint32_t> image_index;
  image_index.reserve(image_ids.size());
  for (size_t i = 0; i < image_ids.size(); ++i) image_index[image_ids[i]] = i;
  std::unordered_map<int64_t, uint32_t> category_index;
  for (size_t i = 0; i < category_ids.size(); ++i) category_index[category_ids[i]] = i;
  const uint64_t num_images = image_ids.size();
  const size_t num_categories = category_ids.size();

  // Cells (category, image) as one sortable key: category-major, as COCOeval loops.
  std::vector<std::pair<uint64_t, uint32_t>> gt_keys;
  gt_keys.reserve(ground_truth.annotations.size());
  std::unordered_set<int64_t> annotation_ids;
  annotation_ids.reserve(ground_truth.annotations.size());
  for (size_t i = 0; i < ground_truth.annotations.size(); ++i) {
    const CocoGroundTruthBox& g = ground_truth.annotations[i];
    const std::string where = fmt::format("ground truth annotations[{}] (id {})", i, g.id);
    if (!annotation_ids.insert(g.id).second) {
      return InvalidArgument(fmt::format("{}: the annotation id is used more than once", where));
    }
    auto img = image_index.find(g.image_id);
    if (img == image_index.end()) {
      return InvalidArgument(
          fmt::format("{}: image_id {} is not among the images", where, g.image_id));
    }
    auto cat = category_index.find(g.category_id);
    if (cat == category_index.end()) {
      return InvalidArgument(
          fmt::format("{}: category_id {} is not among the categories", where, g.category_id));
    }
    RETURN_IF_ERROR(CheckBox(g.bbox, where));
    if (!std::isfinite(g.area) || g.area < 0) {
      return InvalidArgument(
          fmt::format("{}: area {} is not a finite, non-negative number", where, g.area));
    }
    gt_keys.emplace_back(cat->second * num_images + img->second, static_cast<uint32_t>(i));
  }

  std::vector<std::pair<uint64_t, uint32_t>> dt_keys;
  dt_keys.reserve(detections.size());
  for (size_t i = 0; i < detections.size(); ++i) {
    const CocoDetection& d = detections[i];
    const std::string_view kWhere = "detections";
    auto img = image_index.find(d.image_id);
    if (img == image_index.end()) {
      return InvalidArgument(fmt::format(
          "{}[{}]: image_id {} is not an image of the ground truth (results must refer to its "
          "images)",
          kWhere, i, d.image_id));
    }
    if (!FiniteBox(d.bbox) || d.bbox[2] < 0 || d.bbox[3] < 0) {
      RETURN_IF_ERROR(CheckBox(d.bbox, fmt::format("{}[{}]", kWhere, i)));
    }
    if (!std::isfinite(d.score)) {
      return InvalidArgument(
          fmt::format("{}[{}]: score {} is not a finite number", kWhere, i, d.score));
    }
    auto cat = category_index.find(d.category_id);
    if (cat == category_index.end()) {
      if (options.refuse_unknown_category) {
        return InvalidArgument(
            fmt::format("{}[{}]: category_id {} is not a category of the ground truth", kWhere, i,
                        d.category_id));
      }
      continue;  // never evaluated, as in COCOeval
    }
    dt_keys.emplace_back(cat->second * num_images + img->second, static_cast<uint32_t>(i));
  }
  // The index breaks ties, so each cell keeps the input order.
  std::sort(gt_keys.begin(), gt_keys.end());
  std::sort(dt_keys.begin(), dt_keys.end());

  // --- evaluate: per category, every cell with gt or detections ---------------------------
  const std::array<double, kT> iou_thresholds = CocoIouThresholds();
  const std::array<double, kR> recall_thresholds = CocoRecallThresholds();
  // precision[t][r][k][a][m] and recall[t][k][a][m], numpy's C order, -1 where undefined.
  const size_t num_k = num_categories;
  std::vector<double> precision(kT * kR * num_k * kA * kM, -1.0);
  std::vector<double> recall(kT * num_k * kA * kM, -1.0);
  auto precision_at = [&](int t, int r, size_t k, int a, int m) -> double& {
    return precision[(((t * kR + r) * num_k + k) * kA + a) * kM + m];
  };
  auto recall_at = [&](int t, size_t k, int a, int m) -> double& {
    return recall[((t * num_k + k) * kA + a) * kM + m];
  };

  CellScratch scratch;
  CategoryRecords records;
  std::vector<uint32_t> order;
  std::vector<uint32_t> kept;
  std::vector<double> rc_at_tp;
  std::vector<double> pr_at_tp;
  std::vector<uint32_t> cell_gts;
  std::vector<uint32_t> cell_dts;
  size_t gi = 0;
  size_t di = 0;
  for (size_t k = 0; k < num_categories; ++k) {
    records = CategoryRecords();
    const uint64_t end_key = (k + 1) * num_images;
    while ((gi < gt_keys.size() && gt_keys[gi].first < end_key) ||
           (di < dt_keys.size() && dt_keys[di].first < end_key)) {
      uint64_t key = std::numeric_limits<uint64_t>::max();
      if (gi < gt_keys.size()) key = gt_keys[gi].first;
      if (di < dt_keys.size()) key = std::min(key, dt_keys[di].first);
      cell_gts.clear();
      cell_dts.clear();
      for (; gi < gt_keys.size() && gt_keys[gi].first == key; ++gi) {
        cell_gts.push_back(gt_keys[gi].second);
      }
      for (; di < dt_keys.size() && dt_keys[di].first == key; ++di) {
        cell_dts.push_back(dt_keys[di].second);
      }
      EvaluateCell(ground_truth, detections, cell_gts, cell_dts, iou_thresholds, scratch, records);
    }

    // --- accumulate: all images' detections of this category by score, ties by image id and
    // then by rank (the stable sort of the concatenation) --------------------------------
    order.resize(records.score.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t x, uint32_t y) { return records.score[x] > records.score[y]; });
    for (int m = 0; m < kM; ++m) {
      kept.clear();
      for (uint32_t i : order) {
        if (records.rank[i] < kMaxDets[m]) kept.push_back(i);
      }
      for (int a = 0; a < kA; ++a) {
        const int64_t npig = records.npig[a];
        if (npig == 0) continue;  // stays -1
        const double npig_d = static_cast<double>(npig);
        for (int t = 0; t < kT; ++t) {
          // Only the true positives move recall and can raise the right-to-left maximum of
          // precision, so the curve is read at them alone.
          rc_at_tp.clear();
          pr_at_tp.clear();
          int64_t tp = 0;
          int64_t fp = 0;
          const int slot = a * kT + t;
          for (uint32_t i : kept) {
            const uint8_t state = records.state[i][slot];
            if (state == kTruePositive) {
              ++tp;
              const double tp_d = static_cast<double>(tp);
              rc_at_tp.push_back(tp_d / npig_d);
              pr_at_tp.push_back(
                  tp_d / (static_cast<double>(fp) + tp_d + std::numeric_limits<double>::epsilon()));
            } else if (state == kFalsePositive) {
              ++fp;
            }
          }
          recall_at(t, k, a, m) = static_cast<double>(tp) / npig_d;
          for (size_t j = pr_at_tp.size(); j-- > 1;) {
            if (pr_at_tp[j] > pr_at_tp[j - 1]) pr_at_tp[j - 1] = pr_at_tp[j];
          }
          size_t j = 0;
          for (int r = 0; r < kR; ++r) {
            while (j < rc_at_tp.size() && rc_at_tp[j] < recall_thresholds[r]) ++j;
            precision_at(t, r, k, a, m) = j < pr_at_tp.size() ? pr_at_tp[j] : 0.0;
          }
        }
      }
    }
  }

  // --- summarize ---------------------------------------------------------------------------
  auto precision_mean = [&](std::span<const int> ts, int a, int m) {
    std::vector<double> s;
    for (int t : ts) {
      for (int r = 0; r < kR; ++r) {
        for (size_t k = 0; k < num_k; ++k) s.push_back(precision_at(t, r, k, a, m));
      }
    }
    return MeanOfDefined(s);
  };
  auto recall_mean = [&](int a, int m) {
    std::vector<double> s;
    for (int t = 0; t < kT; ++t) {
      for (size_t k = 0; k < num_k; ++k) s.push_back(recall_at(t, k, a, m));
    }
    return MeanOfDefined(s);
  };
  // summarize() picks a threshold with np.where(iouThr == p.iouThrs): exact equality.
  auto thresholds_equal_to = [&](double value) {
    std::vector<int> ts;
    for (int t = 0; t < kT; ++t) {
      if (iou_thresholds[t] == value) ts.push_back(t);
    }
    return ts;
  };
  std::vector<int> all_t(kT);
  std::iota(all_t.begin(), all_t.end(), 0);
  const std::vector<int> t50 = thresholds_equal_to(0.5);
  const std::vector<int> t75 = thresholds_equal_to(0.75);

  CocoDetectionResult result;
  result.stats[0] = precision_mean(all_t, 0, 2);
  result.stats[1] = precision_mean(t50, 0, 2);
  result.stats[2] = precision_mean(t75, 0, 2);
  result.stats[3] = precision_mean(all_t, 1, 2);
  result.stats[4] = precision_mean(all_t, 2, 2);
  result.stats[5] = precision_mean(all_t, 3, 2);
  result.stats[6] = recall_mean(0, 0);
  result.stats[7] = recall_mean(0, 1);
  result.stats[8] = recall_mean(0, 2);
  result.stats[9] = recall_mean(1, 2);
  result.stats[10] = recall_mean(2, 2);
  result.stats[11] = recall_mean(3, 2);

  result.category_ids = category_ids;
  for (size_t k = 0; k < num_k; ++k) {
    std::vector<double> s;
    for (int t = 0; t < kT; ++t) {
      for (int r = 0; r < kR; ++r) s.push_back(precision_at(t, r, k, 0, 2));
    }
    result.per_category_ap.push_back(MeanOfDefined(s));
  }
  return result;
}

}  // namespace openlab::validation::metrics
