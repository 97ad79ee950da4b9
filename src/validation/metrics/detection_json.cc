// Reading the COCO instances (ground truth) and results (detections) files: outside input, so
// every entry is checked for shape and type, and the first bad one is named.
#include "validation/metrics/detection_json.h"

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <string>

#include "validation/metrics/detection.h"

namespace openlab::validation::metrics {
namespace {

namespace json = boost::json;

// Builds a json::value like boost::json::parse, but reads every non-integer number with
// std::from_chars (correctly rounded, as Python's json reads them); Boost.JSON 1.81's own
// conversion can be one unit in the last place off.
class ExactNumberHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack stack;

  bool on_document_begin(json::error_code&) {
    stack.reset();
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double, json::string_view s, json::error_code& ec) {
    number_.append(s.data(), s.size());
    double d = 0;
    auto [end, err] = std::from_chars(number_.data(), number_.data() + number_.size(), d);
    const bool ok = err == std::errc() && end == number_.data() + number_.size();
    number_.clear();
    if (!ok) {
      ec = json::error::exponent_overflow;
      return false;
    }
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  std::string number_;
};

StatusOr<json::value> ParseJson(std::string_view text, std::string_view what) {
  auto parsed = ParseJsonWithExactNumbers(text);
  if (!parsed.ok()) {
    return InvalidArgument(
        fmt::format("the {} is not valid JSON: {}", what, parsed.status().message()));
  }
  return std::move(parsed).value();
}

// Reads one field of an entry; `where` names the entry for messages.
class EntryReader {
 public:
  EntryReader(const json::value& entry, std::string where)
      : object_(entry.if_object()), where_(std::move(where)) {}

  Status Check() const {
    if (object_ == nullptr) return InvalidArgument(fmt::format("{}: must be an object", where_));
    return Status::Ok();
  }
  const std::string& where() const { return where_; }
  void set_where(std::string where) { where_ = std::move(where); }

  StatusOr<const json::value*> Field(std::string_view key, bool required) const {
    const json::value* v = object_->if_contains(key);
    if (v == nullptr && required) {
      return InvalidArgument(fmt::format("{}: field '{}' is missing", where_, key));
    }
    return v;
  }

  StatusOr<int64_t> Id(std::string_view key) const {
    ASSIGN_OR_RETURN(const json::value* v, Field(key, true));
    if (v->is_int64()) return v->get_int64();
    return InvalidArgument(
        fmt::format("{}: field '{}' must be an integer, got {}", where_, key, Show(*v)));
  }

  StatusOr<double> Number(std::string_view key) const {
    ASSIGN_OR_RETURN(const json::value* v, Field(key, true));
    if (!v->is_number()) {
      return InvalidArgument(
          fmt::format("{}: field '{}' must be a number, got {}", where_, key, Show(*v)));
    }
    return v->to_number<double>();
  }

  StatusOr<CocoBox> Box() const {
    ASSIGN_OR_RETURN(const json::value* v, Field("bbox", true));
    const json::array* a = v->if_array();
    if (a == nullptr || a->size() != 4) {
      return InvalidArgument(fmt::format(
          "{}: field 'bbox' must be an array of 4 numbers [x, y, width, height], got {}", where_,
          Show(*v)));
    }
    CocoBox box;
    for (size_t i = 0; i < 4; ++i) {
      if (!(*a)[i].is_number()) {
        return InvalidArgument(fmt::format(
            "{}: field 'bbox' must be an array of 4 numbers [x, y, width, height], got {}", where_,
            Show(*v)));
      }
      box[i] = (*a)[i].to_number<double>();
    }
    return box;
  }

  // A 0/1 flag (a JSON integer or boolean); absent means `absent`.
  StatusOr<bool> Flag(std::string_view key, bool absent) const {
    ASSIGN_OR_RETURN(const json::value* v, Field(key, false));
    if (v == nullptr) return absent;
    if (v->is_bool()) return v->get_bool();
    if (v->is_int64() && (v->get_int64() == 0 || v->get_int64() == 1)) {
      return v->get_int64() == 1;
    }
    return InvalidArgument(
        fmt::format("{}: field '{}' must be 0 or 1, got {}", where_, key, Show(*v)));
  }

 private:
  static std::string Show(const json::value& v) {
    std::string s = json::serialize(v);
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s;
  }

  const json::object* object_;
  std::string where_;
};

StatusOr<const json::array*> TopLevelArray(const json::object& root, std::string_view key) {
  const json::value* v = root.if_contains(key);
  if (v == nullptr || !v->is_array()) {
    return InvalidArgument(
        fmt::format("the ground truth must have an array '{}' (COCO instances format)", key));
  }
  return &v->get_array();
}

}  // namespace

StatusOr<json::value> ParseJsonWithExactNumbers(std::string_view text) {
  json::parse_options opts;
  opts.max_depth = 64;
  opts.allow_invalid_utf8 = false;
  json::basic_parser<ExactNumberHandler> parser(opts);
  json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used != text.size()) ec = json::error::extra_data;
  if (ec) return InvalidArgument(ec.message());
  return parser.handler().stack.release();
}

StatusOr<CocoGroundTruth> ParseCocoGroundTruthJson(std::string_view json_text) {
  ASSIGN_OR_RETURN(json::value root, ParseJson(json_text, "ground truth"));
  if (!root.is_object()) {
    return InvalidArgument(
        "the ground truth must be a JSON object with 'images', 'annotations' and 'categories'");
  }
  const json::object& obj = root.get_object();
  ASSIGN_OR_RETURN(const json::array* images, TopLevelArray(obj, "images"));
  ASSIGN_OR_RETURN(const json::array* annotations, TopLevelArray(obj, "annotations"));
  ASSIGN_OR_RETURN(const json::array* categories, TopLevelArray(obj, "categories"));

  CocoGroundTruth gt;
  gt.image_ids.reserve(images->size());
  for (size_t i = 0; i < images->size(); ++i) {
    EntryReader r((*images)[i], fmt::format("images[{}]", i));
    RETURN_IF_ERROR(r.Check());
    ASSIGN_OR_RETURN(int64_t id, r.Id("id"));
    gt.image_ids.push_back(id);
  }
  for (size_t i = 0; i < categories->size(); ++i) {
    EntryReader r((*categories)[i], fmt::format("categories[{}]", i));
    RETURN_IF_ERROR(r.Check());
    CocoCategory c;
    ASSIGN_OR_RETURN(c.id, r.Id("id"));
    ASSIGN_OR_RETURN(const json::value* name, r.Field("name", false));
    if (name != nullptr) {
      if (!name->is_string()) {
        return InvalidArgument(fmt::format("{}: field 'name' must be a string", r.where()));
      }
      c.name = std::string(name->get_string());
    }
    gt.categories.push_back(std::move(c));
  }
  gt.annotations.reserve(annotations->size());
  for (size_t i = 0; i < annotations->size(); ++i) {
    EntryReader r((*annotations)[i], fmt::format("annotations[{}]", i));
    RETURN_IF_ERROR(r.Check());
    CocoGroundTruthBox a;
    ASSIGN_OR_RETURN(a.id, r.Id("id"));
    r.set_where(fmt::format("annotations[{}] (id {})", i, a.id));
    ASSIGN_OR_RETURN(a.image_id, r.Id("image_id"));
    ASSIGN_OR_RETURN(a.category_id, r.Id("category_id"));
    ASSIGN_OR_RETURN(a.bbox, r.Box());
    ASSIGN_OR_RETURN(a.area, r.Number("area"));
    ASSIGN_OR_RETURN(a.iscrowd, r.Flag("iscrowd", false));
    // COCOeval overwrites "ignore" with iscrowd; it is checked for shape only.
    ASSIGN_OR_RETURN(bool ignore, r.Flag("ignore", false));
    (void)ignore;
    gt.annotations.push_back(a);
  }
  return gt;
}

StatusOr<std::vector<CocoDetection>> ParseCocoDetectionsJson(std::string_view json_text) {
  ASSIGN_OR_RETURN(json::value root, ParseJson(json_text, "results file"));
  if (!root.is_array()) {
    return InvalidArgument(
        "the results file must be a JSON array of {image_id, category_id, bbox, score}");
  }
  const json::array& entries = root.get_array();
  std::vector<CocoDetection> out;
  out.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EntryReader r(entries[i], fmt::format("results[{}]", i));
    RETURN_IF_ERROR(r.Check());
    CocoDetection d;
    ASSIGN_OR_RETURN(d.image_id, r.Id("image_id"));
    ASSIGN_OR_RETURN(d.category_id, r.Id("category_id"));
    ASSIGN_OR_RETURN(d.bbox, r.Box());
    ASSIGN_OR_RETURN(d.score, r.Number("score"));
    out.push_back(d);
  }
  return out;
}

}  // namespace openlab::validation::metrics
