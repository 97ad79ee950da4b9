#include "validation/metrics/detection.h"

#include <gtest/gtest.h>

#include <boost/json/value.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "validation/metrics/detection_json.h"

namespace openlab::validation::metrics {
namespace {

namespace json = boost::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// --- the fixtures: pycocotools' output on four sets ------------------------------------------

class CocoFixtureTest : public testing::TestWithParam<std::string> {};

TEST_P(CocoFixtureTest, MatchesPycocotools) {
  const std::string dir = std::string(OPENLAB_COCO_FIXTURES) + "/" + GetParam();
  auto gt = ParseCocoGroundTruthJson(ReadFile(dir + "/gt.json"));
  ASSERT_TRUE(gt.ok()) << gt.status().ToString();
  auto dt = ParseCocoDetectionsJson(ReadFile(dir + "/dt.json"));
  ASSERT_TRUE(dt.ok()) << dt.status().ToString();
  auto expected_json = ParseJsonWithExactNumbers(ReadFile(dir + "/expected.json"));
  ASSERT_TRUE(expected_json.ok()) << expected_json.status().ToString();
  const json::object& expected = expected_json->as_object();

  // The parameters: the exact doubles np.linspace gave the reference.
  const json::object& params = expected.at("params").as_object();
  const auto iou = CocoIouThresholds();
  const json::array& iou_expected = params.at("iouThrs").as_array();
  ASSERT_EQ(iou_expected.size(), iou.size());
  for (size_t i = 0; i < iou.size(); ++i) EXPECT_EQ(iou[i], iou_expected[i].to_number<double>());
  const auto rec = CocoRecallThresholds();
  const json::array& rec_expected = params.at("recThrs").as_array();
  ASSERT_EQ(rec_expected.size(), rec.size());
  for (size_t i = 0; i < rec.size(); ++i) EXPECT_EQ(rec[i], rec_expected[i].to_number<double>());

  auto result = EvaluateCocoBoxes(*gt, *dt);
  ASSERT_TRUE(result.ok()) << result.status().ToString();

  const json::array& stats = expected.at("stats").as_array();
  ASSERT_EQ(stats.size(), static_cast<size_t>(kCocoStatCount));
  double worst = 0;
  for (int i = 0; i < kCocoStatCount; ++i) {
    const double want = stats[i].to_number<double>();
    EXPECT_NEAR(result->stats[i], want, 1e-9) << kCocoStatNames[i];
    worst = std::max(worst, std::abs(result->stats[i] - want));
  }

  const json::array& cat_ids = params.at("catIds").as_array();
  ASSERT_EQ(result->category_ids.size(), cat_ids.size());
  const json::object& per_cat = expected.at("per_category_ap").as_object();
  ASSERT_EQ(per_cat.size(), cat_ids.size());
  for (size_t k = 0; k < cat_ids.size(); ++k) {
    EXPECT_EQ(result->category_ids[k], cat_ids[k].to_number<int64_t>());
    const double want = per_cat.at(std::to_string(result->category_ids[k])).to_number<double>();
    EXPECT_NEAR(result->per_category_ap[k], want, 1e-9) << "category " << result->category_ids[k];
    worst = std::max(worst, std::abs(result->per_category_ap[k] - want));
  }
  std::ostringstream worst_text;
  worst_text << worst;
  RecordProperty("max_abs_difference", worst_text.str());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CocoFixtureTest,
                         testing::Values("small", "medium", "edge_cases", "tied_scores"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// The order of detections with equal scores decides the result (the tied_scores set is
// built so): reversing the file must change the numbers, and our result must follow.
TEST(CocoDetection, TieOrderMatters) {
  const std::string dir = std::string(OPENLAB_COCO_FIXTURES) + "/tied_scores";
  auto gt = ParseCocoGroundTruthJson(ReadFile(dir + "/gt.json"));
  auto dt = ParseCocoDetectionsJson(ReadFile(dir + "/dt.json"));
  ASSERT_TRUE(gt.ok() && dt.ok());
  std::vector<CocoDetection> reversed(dt->rbegin(), dt->rend());
  auto forward = EvaluateCocoBoxes(*gt, *dt);
  auto backward = EvaluateCocoBoxes(*gt, reversed);
  ASSERT_TRUE(forward.ok() && backward.ok());
  EXPECT_NE(forward->stats[0], backward->stats[0]);
}

// --- small hand-made cases -------------------------------------------------------------------

CocoGroundTruth OneImage() {
  CocoGroundTruth gt;
  gt.image_ids = {1};
  gt.categories = {{1, "thing"}};
  return gt;
}

CocoGroundTruthBox Gt(int64_t id, CocoBox b, bool crowd = false, int64_t image = 1,
                      int64_t category = 1) {
  return {id, image, category, b, b[2] * b[3], crowd};
}

TEST(CocoDetection, ExactMatchScoresOne) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(1, {10, 10, 200, 200}), Gt(2, {300, 300, 150, 120})};
  std::vector<CocoDetection> dt = {{1, 1, {10, 10, 200, 200}, 0.9},
                                   {1, 1, {300, 300, 150, 120}, 0.8}};
  auto r = EvaluateCocoBoxes(gt, dt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Both boxes are large: small and medium have no gt, hence -1.
  const std::array<double, 12> want = {1, 1, 1, -1, -1, 1, 0.5, 1, 1, -1, -1, 1};
  for (int i = 0; i < kCocoStatCount; ++i) EXPECT_DOUBLE_EQ(r->stats[i], want[i]) << i;
  ASSERT_EQ(r->per_category_ap.size(), 1u);
  EXPECT_DOUBLE_EQ(r->per_category_ap[0], 1.0);
}

TEST(CocoDetection, NoDetectionsScoreZeroWhereThereIsGroundTruth) {
  CocoGroundTruth gt = OneImage();
  gt.categories.push_back({2, "absent"});
  gt.annotations = {Gt(1, {0, 0, 20, 20}), Gt(2, {0, 0, 200, 200})};
  auto r = EvaluateCocoBoxes(gt, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // small and large have gt (0), medium has none (-1).
  const std::array<double, 12> want = {0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1, 0};
  for (int i = 0; i < kCocoStatCount; ++i) EXPECT_EQ(r->stats[i], want[i]) << i;
  EXPECT_EQ(r->per_category_ap, (std::vector<double>{0.0, -1.0}));
}

TEST(CocoDetection, NoGroundTruthBoxesGivesMinusOne) {
  CocoGroundTruth gt = OneImage();
  std::vector<CocoDetection> dt = {{1, 1, {10, 10, 20, 20}, 0.5}};
  auto r = EvaluateCocoBoxes(gt, dt);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < kCocoStatCount; ++i) EXPECT_EQ(r->stats[i], -1.0) << i;
}

TEST(CocoDetection, DetectionsInsideACrowdAreIgnored) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(1, {0, 0, 100, 100}), Gt(2, {200, 200, 300, 300}, /*crowd=*/true)};
  std::vector<CocoDetection> with_crowd = {{1, 1, {210, 210, 50, 50}, 0.99},
                                           {1, 1, {300, 300, 60, 60}, 0.98},
                                           {1, 1, {0, 0, 100, 100}, 0.5}};
  std::vector<CocoDetection> alone = {{1, 1, {0, 0, 100, 100}, 0.5}};
  auto a = EvaluateCocoBoxes(gt, with_crowd);
  auto b = EvaluateCocoBoxes(gt, alone);
  ASSERT_TRUE(a.ok() && b.ok());
  // Everything but AR@1 (index 6): with one detection per image, the one kept is absorbed by
  // the crowd, and the true positive is cut.
  for (int i = 0; i < kCocoStatCount; ++i) {
    if (i != 6) {
      EXPECT_EQ(a->stats[i], b->stats[i]) << kCocoStatNames[i];
    }
  }
  EXPECT_EQ(a->stats[6], 0.0);
  EXPECT_EQ(b->stats[6], 1.0);
  // One true positive alone: precision 1 / (1 + 2^-52), as pycocotools computes it.
  EXPECT_EQ(a->stats[0], 1.0 / (1.0 + std::numeric_limits<double>::epsilon()));
}

TEST(CocoDetection, FalsePositiveAboveTheTruePositiveHalvesPrecision) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(1, {0, 0, 100, 100})};
  std::vector<CocoDetection> dt = {{1, 1, {500, 500, 100, 100}, 0.9},
                                   {1, 1, {0, 0, 100, 100}, 0.5}};
  auto r = EvaluateCocoBoxes(gt, dt);
  ASSERT_TRUE(r.ok());
  // precision at the one recall step: tp / (fp + tp + eps) = 1 / (2 + 2^-52) rounds to 0.5.
  EXPECT_EQ(r->stats[0], 0.5);
  EXPECT_EQ(r->stats[8], 1.0);
  EXPECT_EQ(r->stats[6], 0.0);  // with one detection per image, it is the false positive
}

// COCOeval keeps the matched gt's id and reads it as a truth value, so a match to the gt with
// id 0 counts as a false positive. Kept to agree with the reference.
TEST(CocoDetection, MatchToAnnotationIdZeroCountsAsUnmatchedAsInPycocotools) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(0, {0, 0, 100, 100})};
  std::vector<CocoDetection> dt = {{1, 1, {0, 0, 100, 100}, 0.9}};
  auto r = EvaluateCocoBoxes(gt, dt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats[0], 0.0);
  gt.annotations[0].id = 7;
  r = EvaluateCocoBoxes(gt, dt);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->stats[0], 1.0);
}

TEST(CocoDetection, UnknownCategoryIsLeftOutOrRefused) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(1, {0, 0, 100, 100})};
  std::vector<CocoDetection> dt = {{1, 1, {0, 0, 100, 100}, 0.9}, {1, 999, {0, 0, 100, 100}, 0.95}};
  auto r = EvaluateCocoBoxes(gt, dt);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->stats[0], 1.0);
  auto refused = EvaluateCocoBoxes(gt, dt, {.refuse_unknown_category = true});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "detections[1]: category_id 999 is not a category of the ground truth");
}

// --- refusals ----------------------------------------------------------------------------------

void ExpectRefused(const StatusOr<CocoDetectionResult>& r, const std::string& message) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), message);
}

TEST(CocoDetection, RefusesNegativeWidthOrHeight) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(1, {0, 0, 100, 100}), Gt(5, {0, 0, -3, 100})};
  ExpectRefused(EvaluateCocoBoxes(gt, {}),
                "ground truth annotations[1] (id 5): bbox [0, 0, -3, 100] has a negative width "
                "or height (the format is [x, y, width, height])");
  gt.annotations.pop_back();
  std::vector<CocoDetection> dt = {{1, 1, {0, 0, 10, 10}, 0.5}, {1, 1, {0, 0, 10, -1}, 0.5}};
  ExpectRefused(EvaluateCocoBoxes(gt, dt),
                "detections[1]: bbox [0, 0, 10, -1] has a negative width or height (the format is "
                "[x, y, width, height])");
}

TEST(CocoDetection, RefusesNanCoordinatesAndScores) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(1, {0, 0, 100, 100})};
  std::vector<CocoDetection> dt = {{1, 1, {nan, 0, 10, 10}, 0.5}};
  ExpectRefused(EvaluateCocoBoxes(gt, dt),
                "detections[0]: bbox [nan, 0, 10, 10] has a coordinate that is not a finite "
                "number");
  dt = {{1, 1, {0, 0, 10, 10}, nan}};
  ExpectRefused(EvaluateCocoBoxes(gt, dt), "detections[0]: score nan is not a finite number");
  dt = {{1, 1, {0, 0, 1e200, 1e200}, 0.5}};
  ExpectRefused(EvaluateCocoBoxes(gt, dt),
                "detections[0]: bbox [0, 0, 1e+200, 1e+200] is too large (its corner or area "
                "overflows)");
  gt.annotations[0].area = nan;
  ExpectRefused(EvaluateCocoBoxes(gt, {}),
                "ground truth annotations[0] (id 1): area nan is not a finite, non-negative "
                "number");
}

TEST(CocoDetection, RefusesDetectionOnAnImageNotInTheGroundTruth) {
  CocoGroundTruth gt = OneImage();
  std::vector<CocoDetection> dt = {{1, 1, {0, 0, 10, 10}, 0.5}, {2, 1, {0, 0, 10, 10}, 0.5}};
  ExpectRefused(EvaluateCocoBoxes(gt, dt),
                "detections[1]: image_id 2 is not an image of the ground truth (results must "
                "refer to its images)");
}

TEST(CocoDetection, RefusesDuplicateIds) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(4, {0, 0, 10, 10}), Gt(4, {20, 20, 10, 10})};
  ExpectRefused(EvaluateCocoBoxes(gt, {}),
                "ground truth annotations[1] (id 4): the annotation id is used more than once");
  gt = OneImage();
  gt.image_ids = {3, 1, 3};
  ExpectRefused(EvaluateCocoBoxes(gt, {}), "ground truth: image id 3 is listed more than once");
  gt = OneImage();
  gt.categories.push_back({1, "again"});
  ExpectRefused(EvaluateCocoBoxes(gt, {}), "ground truth: category id 1 is listed more than once");
}

TEST(CocoDetection, RefusesAnnotationOfUnlistedImageOrCategory) {
  CocoGroundTruth gt = OneImage();
  gt.annotations = {Gt(1, {0, 0, 10, 10}, false, /*image=*/9)};
  ExpectRefused(EvaluateCocoBoxes(gt, {}),
                "ground truth annotations[0] (id 1): image_id 9 is not among the images");
  gt.annotations = {Gt(1, {0, 0, 10, 10}, false, 1, /*category=*/4)};
  ExpectRefused(EvaluateCocoBoxes(gt, {}),
                "ground truth annotations[0] (id 1): category_id 4 is not among the categories");
}

// --- the JSON readers ------------------------------------------------------------------------

TEST(CocoJson, ReadsGroundTruth) {
  auto gt = ParseCocoGroundTruthJson(R"({
    "info": {"year": 2020},
    "images": [{"id": 3, "width": 640, "height": 480, "file_name": "a.jpg"}],
    "annotations": [
      {"id": 1, "image_id": 3, "category_id": 2, "bbox": [1, 2.5, 3, 4], "area": 12,
       "iscrowd": 1, "segmentation": []},
      {"id": 2, "image_id": 3, "category_id": 2, "bbox": [0, 0, 1, 1], "area": 1.5,
       "ignore": 1}],
    "categories": [{"id": 2, "name": "cat", "supercategory": "animal"}]})");
  ASSERT_TRUE(gt.ok()) << gt.status().ToString();
  EXPECT_EQ(gt->image_ids, std::vector<int64_t>{3});
  ASSERT_EQ(gt->categories.size(), 1u);
  EXPECT_EQ(gt->categories[0].name, "cat");
  ASSERT_EQ(gt->annotations.size(), 2u);
  EXPECT_EQ(gt->annotations[0].bbox, (CocoBox{1, 2.5, 3, 4}));
  EXPECT_TRUE(gt->annotations[0].iscrowd);
  EXPECT_FALSE(gt->annotations[1].iscrowd);
  EXPECT_EQ(gt->annotations[1].area, 1.5);
}

void ExpectJsonRefused(const Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), message);
}

TEST(CocoJson, NamesTheFirstBadGroundTruthEntry) {
  ExpectJsonRefused(ParseCocoGroundTruthJson("{\"images\": [}").status(),
                    "the ground truth is not valid JSON: syntax error");
  ExpectJsonRefused(ParseCocoGroundTruthJson(R"({"images": [], "annotations": []})").status(),
                    "the ground truth must have an array 'categories' (COCO instances format)");
  ExpectJsonRefused(
      ParseCocoGroundTruthJson(
          R"({"images": [{"id": 1}, {"id": "2"}], "annotations": [], "categories": []})")
          .status(),
      "images[1]: field 'id' must be an integer, got \"2\"");
  ExpectJsonRefused(
      ParseCocoGroundTruthJson(R"({"images": [{"id": 1}], "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                         "area": 1},
                        {"id": 8, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1],
                         "area": 1}]})")
          .status(),
      "annotations[1] (id 8): field 'bbox' must be an array of 4 numbers [x, y, width, "
      "height], got [0,0,1]");
  ExpectJsonRefused(ParseCocoGroundTruthJson(R"({"images": [{"id": 1}], "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]})")
                        .status(),
                    "annotations[0] (id 1): field 'area' is missing");
  ExpectJsonRefused(ParseCocoGroundTruthJson(R"({"images": [{"id": 1}], "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                         "area": 1, "iscrowd": 2}]})")
                        .status(),
                    "annotations[0] (id 1): field 'iscrowd' must be 0 or 1, got 2");
}

TEST(CocoJson, ReadsResultsAndNamesTheFirstBadEntry) {
  auto dt = ParseCocoDetectionsJson(R"([
    {"image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5, "id": 77},
    {"image_id": 1, "category_id": 3, "bbox": [0.5, 0, 10, 10], "score": 1}])");
  ASSERT_TRUE(dt.ok()) << dt.status().ToString();
  ASSERT_EQ(dt->size(), 2u);
  EXPECT_EQ((*dt)[1].category_id, 3);
  EXPECT_EQ((*dt)[1].bbox, (CocoBox{0.5, 0, 10, 10}));
  EXPECT_EQ((*dt)[1].score, 1.0);

  ExpectJsonRefused(ParseCocoDetectionsJson(R"({"annotations": []})").status(),
                    "the results file must be a JSON array of {image_id, category_id, bbox, "
                    "score}");
  ExpectJsonRefused(ParseCocoDetectionsJson(R"([{"image_id": 1, "category_id": 2,
      "bbox": [1, 2, 3, 4], "score": 0.5}, 7])")
                        .status(),
                    "results[1]: must be an object");
  ExpectJsonRefused(ParseCocoDetectionsJson(R"([{"image_id": 1, "category_id": 2,
      "bbox": [1, 2, 3, 4], "score": "high"}])")
                        .status(),
                    "results[0]: field 'score' must be a number, got \"high\"");
  ExpectJsonRefused(ParseCocoDetectionsJson(R"([{"image_id": 1, "bbox": [1, 2, 3, 4],
      "score": 0.5}])")
                        .status(),
                    "results[0]: field 'category_id' is missing");
  // Python's json writes NaN, which is not JSON.
  ExpectJsonRefused(ParseCocoDetectionsJson(R"([{"image_id": 1, "category_id": 2,
      "bbox": [1, 2, 3, 4], "score": NaN}])")
                        .status(),
                    "the results file is not valid JSON: syntax error");
}

}  // namespace
}  // namespace openlab::validation::metrics
