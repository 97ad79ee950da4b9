// Benchmark of COCO box mAP (validation/metrics/detection.h): a deterministic synthetic set of
// 5,000 images, 50,000 ground-truth boxes (about 3% crowd) in 8 categories and 250,000
// detections near them (jittered true positives, duplicates, wrong categories, random false
// positives; scores with 3 decimals, so many ties), scored single-threaded. It prints the
// median (and min, max) of the runs for EvaluateCocoBoxes alone and for reading the two JSON
// files (ParseCocoGroundTruthJson + ParseCocoDetectionsJson), and the 12 stats.
//
//   coco_map [--runs N]     (default 5)
//
// No baseline runs here: pycocotools is not a Debian package and nothing is downloaded; its
// results are what the fixtures in metrics_detection_test check.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "validation/metrics/detection.h"

namespace {

using namespace openlab::validation::metrics;  // NOLINT: a benchmark's main file

constexpr int kImages = 5000;
constexpr int kGroundTruth = 50000;
constexpr int kDetections = 250000;
constexpr int kCategories = 8;

// splitmix64: the same numbers on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int Int(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

double Round2(double v) { return std::round(v * 100) / 100; }

struct Set {
  CocoGroundTruth gt;
  std::vector<CocoDetection> dt;
};

Set Generate() {
  Rng rng(20261204);
  Set s;
  for (int i = 0; i < kImages; ++i) s.gt.image_ids.push_back(1 + 3 * i);  // not contiguous
  for (int k = 0; k < kCategories; ++k) {
    s.gt.categories.push_back({static_cast<int64_t>(1 + k * 5), fmt::format("class{}", k)});
  }
  // Ground truth: 10 boxes per image on average (0 to 20), sizes from each area range.
  std::vector<int> per_image(kImages, 0);
  for (int n = 0; n < kGroundTruth; ++n) per_image[rng.Int(kImages)]++;
  int64_t next_id = 1;
  for (int i = 0; i < kImages; ++i) {
    for (int n = 0; n < per_image[i]; ++n) {
      const int range = rng.Int(3);
      const double side = range == 0   ? rng.Uniform(8, 31)
                          : range == 1 ? rng.Uniform(33, 95)
                                       : rng.Uniform(97, 400);
      const double w = Round2(side * rng.Uniform(0.6, 1.4));
      const double h = Round2(side * side / std::max(w, 1.0));
      CocoGroundTruthBox g;
      g.id = next_id++;
      g.image_id = s.gt.image_ids[i];
      g.category_id = s.gt.categories[rng.Int(kCategories)].id;
      g.bbox = {Round2(rng.Uniform(0, 1500)), Round2(rng.Uniform(0, 800)), w, h};
      g.area = w * h;
      g.iscrowd = rng.Uniform() < 0.03;
      s.gt.annotations.push_back(g);
    }
  }
  // Detections: per gt, 0-6 jittered copies (some in the wrong category); the rest random.
  auto jitter = [&](const CocoBox& b, double amount) {
    CocoBox out;
    out[0] = Round2(b[0] + b[2] * rng.Uniform(-amount, amount));
    out[1] = Round2(b[1] + b[3] * rng.Uniform(-amount, amount));
    out[2] = Round2(std::max(1.0, b[2] * (1 + rng.Uniform(-amount, amount))));
    out[3] = Round2(std::max(1.0, b[3] * (1 + rng.Uniform(-amount, amount))));
    return out;
  };
  auto score = [&](double lo, double hi) { return std::round(rng.Uniform(lo, hi) * 1000) / 1000; };
  for (const CocoGroundTruthBox& g : s.gt.annotations) {
    const int copies = rng.Int(7);
    for (int c = 0; c < copies && s.dt.size() < kDetections; ++c) {
      CocoDetection d;
      d.image_id = g.image_id;
      d.category_id =
          rng.Uniform() < 0.1 ? s.gt.categories[rng.Int(kCategories)].id : g.category_id;
      const double quality = rng.Uniform();
      d.bbox = jitter(g.bbox, quality < 0.5 ? 0.05 : quality < 0.8 ? 0.15 : 0.35);
      d.score = score(quality < 0.5 ? 0.5 : 0.2, 1.0);
      s.dt.push_back(d);
    }
  }
  while (s.dt.size() < kDetections) {
    CocoDetection d;
    d.image_id = s.gt.image_ids[rng.Int(kImages)];
    d.category_id = s.gt.categories[rng.Int(kCategories)].id;
    const double side = rng.Uniform(8, 300);
    d.bbox = {Round2(rng.Uniform(0, 1500)), Round2(rng.Uniform(0, 800)), Round2(side),
              Round2(side * rng.Uniform(0.5, 2))};
    d.score = score(0.0, 0.7);
    s.dt.push_back(d);
  }
  // Shuffle the results (Fisher-Yates), as a participant's file would be in any order.
  for (size_t i = s.dt.size() - 1; i > 0; --i) {
    std::swap(s.dt[i], s.dt[static_cast<size_t>(rng.Next() % (i + 1))]);
  }
  return s;
}

std::string GroundTruthJson(const CocoGroundTruth& gt) {
  std::string out = "{\"images\": [";
  for (size_t i = 0; i < gt.image_ids.size(); ++i) {
    out += fmt::format("{}{{\"id\": {}, \"width\": 1920, \"height\": 1080}}", i ? ", " : "",
                       gt.image_ids[i]);
  }
  out += "], \"categories\": [";
  for (size_t i = 0; i < gt.categories.size(); ++i) {
    out += fmt::format("{}{{\"id\": {}, \"name\": \"{}\"}}", i ? ", " : "", gt.categories[i].id,
                       gt.categories[i].name);
  }
  out += "], \"annotations\": [";
  for (size_t i = 0; i < gt.annotations.size(); ++i) {
    const CocoGroundTruthBox& a = gt.annotations[i];
    out += fmt::format(
        "{}{{\"id\": {}, \"image_id\": {}, \"category_id\": {}, \"bbox\": [{}, {}, {}, {}], "
        "\"area\": {}, \"iscrowd\": {}}}",
        i ? ", " : "", a.id, a.image_id, a.category_id, a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3],
        a.area, a.iscrowd ? 1 : 0);
  }
  return out + "]}";
}

std::string DetectionsJson(const std::vector<CocoDetection>& dt) {
  std::string out = "[";
  for (size_t i = 0; i < dt.size(); ++i) {
    const CocoDetection& d = dt[i];
    out += fmt::format(
        "{}{{\"image_id\": {}, \"category_id\": {}, \"bbox\": [{}, {}, {}, {}], \"score\": {}}}",
        i ? ", " : "", d.image_id, d.category_id, d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3],
        d.score);
  }
  return out + "]";
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Summary {
  double median, min, max;
};
Summary Summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "coco_map: %s\n", m.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else {
      Die("usage: coco_map [--runs N]");
    }
  }
  if (runs < 1) Die("--runs must be at least 1");

  const Set set = Generate();
  int crowd = 0;
  for (const CocoGroundTruthBox& g : set.gt.annotations) crowd += g.iscrowd;
  std::printf("set: %zu images, %zu gt boxes (%d crowd), %zu detections, %zu categories\n",
              set.gt.image_ids.size(), set.gt.annotations.size(), crowd, set.dt.size(),
              set.gt.categories.size());

  std::vector<double> evaluate_s;
  CocoDetectionResult result;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = EvaluateCocoBoxes(set.gt, set.dt);
    const auto t1 = std::chrono::steady_clock::now();
    if (!out.ok()) Die(out.status().ToString());
    evaluate_s.push_back(Seconds(t0, t1));
    result = std::move(out).value();
  }

  const std::string gt_json = GroundTruthJson(set.gt);
  const std::string dt_json = DetectionsJson(set.dt);
  std::vector<double> parse_s;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto gt = ParseCocoGroundTruthJson(gt_json);
    auto dt = ParseCocoDetectionsJson(dt_json);
    const auto t1 = std::chrono::steady_clock::now();
    if (!gt.ok()) Die(gt.status().ToString());
    if (!dt.ok()) Die(dt.status().ToString());
    parse_s.push_back(Seconds(t0, t1));
    // The files hold the same numbers: the result read back must be the same.
    auto again = EvaluateCocoBoxes(*gt, *dt);
    if (!again.ok() || again->stats != result.stats) Die("the JSON round trip changed the stats");
  }

  const Summary e = Summarise(evaluate_s);
  const Summary p = Summarise(parse_s);
  std::printf("EvaluateCocoBoxes: median %.3f s (min %.3f, max %.3f) over %d runs\n", e.median,
              e.min, e.max, runs);
  std::printf("read gt.json (%.1f MB) + results (%.1f MB): median %.3f s (min %.3f, max %.3f)\n",
              gt_json.size() / 1e6, dt_json.size() / 1e6, p.median, p.min, p.max);
  for (int i = 0; i < kCocoStatCount; ++i) {
    std::printf("%-10s %.6f\n", std::string(kCocoStatNames[i]).c_str(), result.stats[i]);
  }
  return 0;
}
