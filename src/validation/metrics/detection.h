// The detection metrics.
//
// COCO box mAP: EvaluateCocoBoxes computes what pycocotools' COCOeval(iouType='bbox') computes
// with its default parameters (evaluate() + accumulate() + summarize()), to the last bits where
// the order of floating-point operations can be followed, and is checked against pycocotools'
// output on the fixtures in shared/data/validation/coco. docs/metrics/detection.md explains the
// algorithm and every place where the reference's behaviour is surprising.
//
// Parameters (pycocotools' defaults, fixed): IoU thresholds np.linspace(.5, .95, 10), recall
// thresholds np.linspace(0, 1, 101) (the exact doubles numpy gives: i * step + start), at most
// 1 / 10 / 100 detections per image and category, area ranges all [0, 1e10], small [0, 32^2],
// medium [32^2, 96^2], large [96^2, 1e10] (bounds inclusive), categories used.
//
// Behaviour of the reference that this follows on purpose:
//   - Every image listed in the ground truth is evaluated; every ground-truth category is, in
//     ascending id order. A category without a non-ignored gt box gets AP -1 and is left out of
//     the means; a mean over nothing is -1.
//   - A gt box is ignored when iscrowd is set (an "ignore" key in the file has no effect:
//     COCOeval overwrites it with iscrowd) or, per area range, when its `area` field (not
//     w*h) lies outside the range. A detection's area is w*h.
//   - Per image and category, detections are ordered by score, highest first, ties in input
//     order (a stable sort), and cut to 100 before matching.
//   - A crowd gt box's IoU is intersection / area of the detection, and it may absorb any
//     number of detections.
//   - A detection matched to a gt box whose annotation id is 0 counts as unmatched in the
//     precision/recall (COCOeval stores the matched gt id and tests it for non-zero): a quirk
//     of the reference kept so that numbers agree with it; ids starting at 1 avoid it.
//   - Detections whose category is not a ground-truth category are never evaluated (unless
//     CocoEvalOptions::refuse_unknown_category asks for a refusal). Detections on an image not
//     in the ground truth are refused, as pycocotools' loadRes asserts.
//   - An empty detection list scores 0 (AP and AR) where there is non-ignored gt (pycocotools'
//     loadRes fails on an empty list instead).
//
// Pure: no I/O, no global state; thread-safe. Cost: O(n log n) sorting plus, per image and
// category, one IoU matrix (detections x gt) and 4 area ranges x 10 thresholds of greedy
// matching over it; then one pass per (category, area range, maxDets, threshold).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace openlab::validation::metrics {

// A box [x, y, width, height] in pixels, as in the COCO formats.
using CocoBox = std::array<double, 4>;

struct CocoCategory {
  int64_t id = 0;
  std::string name;  // for reports; not used by the evaluation
};

// One ground-truth annotation.
struct CocoGroundTruthBox {
  int64_t id = 0;  // unique among the annotations
  int64_t image_id = 0;
  int64_t category_id = 0;
  CocoBox bbox{};
  double area = 0;  // the `area` field of the annotation: it decides the area range
  bool iscrowd = false;
};

struct CocoGroundTruth {
  std::vector<int64_t> image_ids;        // unique; every one is evaluated
  std::vector<CocoCategory> categories;  // unique ids
  std::vector<CocoGroundTruthBox> annotations;
};

// One entry of a COCO results file.
struct CocoDetection {
  int64_t image_id = 0;
  int64_t category_id = 0;
  CocoBox bbox{};
  double score = 0;
};

struct CocoEvalOptions {
  // false (the reference's behaviour): detections of a category absent from the ground truth
  // are left out. true: they are refused with InvalidArgument.
  bool refuse_unknown_category = false;
};

// The 12 numbers of COCOeval.stats, in its order.
inline constexpr int kCocoStatCount = 12;
inline constexpr std::array<std::string_view, kCocoStatCount> kCocoStatNames = {
    "AP",      "AP50",     "AP75",      "AP_small", "AP_medium", "AP_large",
    "AR_max1", "AR_max10", "AR_max100", "AR_small", "AR_medium", "AR_large"};

struct CocoDetectionResult {
  std::array<double, kCocoStatCount> stats{};
  // Ascending category ids and, for each, AP over the 10 IoU thresholds (area all, maxDets
  // 100): the mean of its precision entries > -1, or -1 when it has no non-ignored gt.
  std::vector<int64_t> category_ids;
  std::vector<double> per_category_ap;
};

// The IoU and recall thresholds, as the exact doubles np.linspace gives.
std::array<double, 10> CocoIouThresholds();
std::array<double, 101> CocoRecallThresholds();

// Evaluates `detections` against `ground_truth`.
// Errors (InvalidArgument, naming the first offending entry): duplicate image, category or
// annotation ids; an annotation of an image or category not listed; a box with a coordinate,
// width or height that is not finite, a negative width or height, or a far corner or area
// (w * h) that overflows; a gt area that is not finite or negative; a detection score that is
// not finite; a detection on an image not in the ground truth (and, with
// refuse_unknown_category, of a category not in it).
StatusOr<CocoDetectionResult> EvaluateCocoBoxes(const CocoGroundTruth& ground_truth,
                                                std::span<const CocoDetection> detections,
                                                const CocoEvalOptions& options = {});

// Reads a COCO instances file (an object with "images", "annotations", "categories"; other keys
// and fields are allowed and unused). Annotations need id, image_id, category_id, bbox (4
// numbers), area; iscrowd (0 or 1) defaults to 0; "ignore" is read and unused. Errors
// (InvalidArgument) name the first bad entry, e.g. "annotations[17] (id 42): ...".
// It checks types and shapes only; EvaluateCocoBoxes checks the values.
StatusOr<CocoGroundTruth> ParseCocoGroundTruthJson(std::string_view json_text);

// Reads a COCO results file: a JSON array of {image_id, category_id, bbox, score} (other
// fields are allowed and unused). Errors name the first bad entry ("results[3]: ...").
StatusOr<std::vector<CocoDetection>> ParseCocoDetectionsJson(std::string_view json_text);

}  // namespace openlab::validation::metrics
