#include "data/metadata/metadata.h"

#include <algorithm>
#include <ctime>
#include <iterator>
#include <map>
#include <regex>
#include <set>

#include "common/clock.h"
#include "common/strings.h"

namespace openlab::data {

namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Vocabulary constants.

constexpr std::string_view kSpdxLicensePrefix = "https://spdx.org/licenses/";
constexpr std::string_view kEuAccessRight =
    "http://publications.europa.eu/resource/authority/access-right/";

struct ContextTerm {
  const char* key;
  const char* id;         // the IRI or compact IRI the term maps to
  const char* type;       // "@type" of an expanded term definition, or nullptr for a plain one
  bool required_in_lint;  // whether ValidateCroissant insists on it
};

// The Croissant 1.0 reference context. Every term below appears both in the context of the
// mlcommons 1.0 example datasets (e.g. datasets/1.0/titanic/metadata.json) and in the one
// mlcroissant writes (make_context in mlcroissant/_src/core/rdf.py), except "samplingRate"
// (mlcroissant only) and "wd" (examples only): we emit those too but do not require them.
constexpr ContextTerm kCroissantTerms[] = {
    {"@language", "en", nullptr, true},
    {"@vocab", "https://schema.org/", nullptr, true},
    {"citeAs", "cr:citeAs", nullptr, true},
    {"column", "cr:column", nullptr, true},
    {"conformsTo", "dct:conformsTo", nullptr, true},
    {"cr", "http://mlcommons.org/croissant/", nullptr, true},
    {"rai", "http://mlcommons.org/croissant/RAI/", nullptr, true},
    {"data", "cr:data", "@json", true},
    {"dataType", "cr:dataType", "@vocab", true},
    {"dct", "http://purl.org/dc/terms/", nullptr, true},
    {"examples", "cr:examples", "@json", true},
    {"extract", "cr:extract", nullptr, true},
    {"field", "cr:field", nullptr, true},
    {"fileProperty", "cr:fileProperty", nullptr, true},
    {"fileObject", "cr:fileObject", nullptr, true},
    {"fileSet", "cr:fileSet", nullptr, true},
    {"format", "cr:format", nullptr, true},
    {"includes", "cr:includes", nullptr, true},
    {"isLiveDataset", "cr:isLiveDataset", nullptr, true},
    {"jsonPath", "cr:jsonPath", nullptr, true},
    {"key", "cr:key", nullptr, true},
    {"md5", "cr:md5", nullptr, true},
    {"parentField", "cr:parentField", nullptr, true},
    {"path", "cr:path", nullptr, true},
    {"recordSet", "cr:recordSet", nullptr, true},
    {"references", "cr:references", nullptr, true},
    {"regex", "cr:regex", nullptr, true},
    {"repeated", "cr:repeated", nullptr, true},
    {"replace", "cr:replace", nullptr, true},
    {"samplingRate", "cr:samplingRate", nullptr, false},
    {"sc", "https://schema.org/", nullptr, true},
    {"separator", "cr:separator", nullptr, true},
    {"source", "cr:source", nullptr, true},
    {"subField", "cr:subField", nullptr, true},
    {"transform", "cr:transform", nullptr, true},
    {"wd", "https://www.wikidata.org/wiki/", nullptr, false},
};

json::value TermValue(const ContextTerm& t) {
  if (t.type == nullptr) return json::value(t.id);
  return json::object{{"@id", t.id}, {"@type", t.type}};
}

struct Prefix {
  const char* key;
  const char* iri;
};

constexpr Prefix kDcatPrefixes[] = {
    {"dcat", "http://www.w3.org/ns/dcat#"},       {"dct", "http://purl.org/dc/terms/"},
    {"foaf", "http://xmlns.com/foaf/0.1/"},       {"spdx", "http://spdx.org/rdf/terms#"},
    {"xsd", "http://www.w3.org/2001/XMLSchema#"}, {"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
};
// rdfs is emitted (for the label of our access-rights statement) but not required.
constexpr size_t kRequiredDcatPrefixes = 5;

constexpr std::string_view kAccessLevels[] = {"open",    "registered", "consortium",
                                              "project", "restricted", "hidden"};

bool IsKnownAccessLevel(std::string_view level) {
  return std::find(std::begin(kAccessLevels), std::end(kAccessLevels), level) !=
         std::end(kAccessLevels);
}

// The EU "access right" authority-table concept for one of our access levels.
std::string EuAccessRight(std::string_view level) {
  std::string_view code = "NON_PUBLIC";
  if (level == "open") {
    code = "PUBLIC";
  } else if (level == "registered" || level == "consortium") {
    code = "RESTRICTED";
  }
  return std::string(kEuAccessRight) + std::string(code);
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

bool IsHex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// The extension of the last path segment, without the dot, as written; empty if none (a
// leading dot, as in ".gitignore", starts a name, not an extension).
std::string_view RawExtension(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  return base.substr(dot + 1);
}

std::string Extension(std::string_view path) { return AsciiLower(RawExtension(path)); }

// Extensions that can go into a glob as they are (no glob metacharacters, no escapes).
bool IsPlainExtension(std::string_view ext) {
  return !ext.empty() && std::all_of(ext.begin(), ext.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

std::string DatasetUrl(std::string_view base_url, std::string_view id) {
  return std::string(base_url) + "/api/v1/datasets/" + PercentEncode(id);
}

std::string ManifestUrl(std::string_view base_url, std::string_view id, std::string_view version) {
  return DatasetUrl(base_url, id) + "/versions/" + PercentEncode(version) + "/manifest";
}

std::string LicenseUrl(std::string_view spdx_id) {
  // SPDX ids are letters, digits, '.', '-' and a trailing '+' (e.g. "GPL-2.0+"); '+' is legal in
  // a path segment and spdx.org serves it unencoded.
  return std::string(kSpdxLicensePrefix) + PercentEncode(spdx_id, "+") + ".html";
}

std::string Title(const DatasetMeta& ds) { return ds.title.empty() ? ds.name : ds.title; }

std::string Description(const DatasetMeta& ds) {
  if (!ds.description.empty()) return ds.description;
  return "Dataset '" + Title(ds) + "' (no description provided).";
}

std::string VersionName(const MetaVersion& v) { return v.tags.empty() ? v.id : v.tags.front(); }

json::array StringArray(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

json::object TypedLiteral(std::string value, std::string_view type) {
  return json::object{{"@value", std::move(value)}, {"@type", type}};
}

// Collects violations and renders them as one InvalidArgument.
class Violations {
 public:
  void Add(std::string where, std::string what) {
    items_.push_back(where.empty() ? std::move(what) : std::move(where) + ": " + std::move(what));
  }
  Status ToStatus() const {
    if (items_.empty()) return Status::Ok();
    std::string msg;
    for (const auto& item : items_) {
      if (!msg.empty()) msg += "; ";
      msg += item;
    }
    return InvalidArgument(std::move(msg));
  }

 private:
  std::vector<std::string> items_;
};

// The value of the first of `keys` present in `obj`, or nullptr.
const json::value* Find(const json::object& obj, std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    if (const json::value* v = obj.if_contains(key)) return v;
  }
  return nullptr;
}

bool IsNonEmptyString(const json::value* v) {
  return v != nullptr && v->is_string() && !v->get_string().empty();
}

// A literal's lexical form: a string, or the "@value" string of a value object.
std::optional<std::string_view> LiteralString(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string_view(v->get_string());
  if (v->is_object()) {
    const json::value* inner = v->get_object().if_contains("@value");
    if (inner != nullptr && inner->is_string()) return std::string_view(inner->get_string());
  }
  return std::nullopt;
}

// True if the "@type" of `obj` (a string or an array of strings) is one of `accepted`.
bool HasType(const json::object& obj, std::initializer_list<std::string_view> accepted) {
  const json::value* t = obj.if_contains("@type");
  if (t == nullptr) return false;
  auto matches = [&](const json::value& v) {
    return v.is_string() && std::find(accepted.begin(), accepted.end(),
                                      std::string_view(v.get_string())) != accepted.end();
  };
  if (matches(*t)) return true;
  if (t->is_array()) return std::any_of(t->get_array().begin(), t->get_array().end(), matches);
  return false;
}

// Views a JSON-LD value that may be one node or an array of nodes as a list.
std::vector<const json::value*> AsList(const json::value& v) {
  std::vector<const json::value*> out;
  if (v.is_array()) {
    for (const auto& item : v.get_array()) out.push_back(&item);
  } else {
    out.push_back(&v);
  }
  return out;
}

std::string Indexed(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// The "@id" of a node reference {"@id": "..."}; empty if `v` is not one.
std::string RefId(const json::value* v) {
  if (v == nullptr || !v->is_object()) return "";
  const json::value* id = v->get_object().if_contains("@id");
  return id != nullptr && id->is_string() ? std::string(id->get_string()) : "";
}

bool IsIsoDateTime(std::string_view s) {
  static const std::regex re(
      R"(^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$)");
  return std::regex_match(s.begin(), s.end(), re);
}

// ---------------------------------------------------------------------------------------------
// Croissant: distributions.

json::array FileObjects(const DatasetMeta& ds, const MetaVersion& v,
                        const std::vector<MetaFile>& files, const std::string& base_url) {
  json::array out;
  for (const auto& f : files) {
    json::object fo;
    fo["@type"] = "cr:FileObject";
    // @ids are IRIs (relative to the document): the encoded path is one and is unique.
    fo["@id"] = EncodePath(f.path);
    fo["name"] = f.path;
    fo["contentUrl"] = FileDownloadUrl(base_url, ds.id, v.id, f.path);
    fo["contentSize"] = std::to_string(f.size) + " B";
    fo["encodingFormat"] = GuessEncodingFormat(f.path);
    fo["sha256"] = AsciiLower(f.sha256_hex);
    out.push_back(std::move(fo));
  }
  return out;
}

// FileSets describing `files` by glob: one per plain extension ("**/*.csv"), and one catch-all
// for the rest ("**" minus the other globs). No URLs: nothing here is downloadable as such.
json::array FileSets(const MetaVersion& v, const std::vector<MetaFile>& files) {
  json::array out;
  auto make = [&](std::string id, const std::string& format, json::value includes, uint64_t count,
                  uint64_t bytes) {
    json::object fs;
    fs["@type"] = "cr:FileSet";
    fs["@id"] = id;
    fs["name"] = id;
    fs["description"] = std::to_string(count) + " file(s), " + std::to_string(bytes) +
                        " B in total, of version " + v.id + ".";
    fs["encodingFormat"] = format;  // json::string copies; a move would not help
    fs["includes"] = std::move(includes);
    return fs;
  };
  if (files.empty()) {
    out.push_back(make("files", "application/octet-stream", "**", v.file_count, v.total_bytes));
    return out;
  }
  struct Group {
    uint64_t count = 0, bytes = 0;
  };
  std::map<std::string, Group> by_ext;  // sorted: deterministic output
  Group other;
  for (const auto& f : files) {
    // Grouped by the extension as written: globs match case-sensitively.
    std::string ext(RawExtension(f.path));
    Group& g = IsPlainExtension(ext) ? by_ext[ext] : other;
    g.count++;
    g.bytes += f.size;
  }
  json::array globs;
  for (const auto& [ext, g] : by_ext) {
    std::string glob = "**/*." + ext;
    globs.emplace_back(glob);
    out.push_back(
        make("files/" + ext, GuessEncodingFormat("x." + ext), json::value(glob), g.count, g.bytes));
  }
  if (other.count > 0) {
    json::object fs =
        make("files/other", "application/octet-stream", "**", other.count, other.bytes);
    if (!globs.empty()) fs["excludes"] = std::move(globs);
    out.push_back(std::move(fs));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Croissant validation.

void ValidateCroissantContext(const json::object& doc, Violations& errs) {
  const json::value* ctx = doc.if_contains("@context");
  if (ctx == nullptr) {
    errs.Add("", "missing property '@context'");
    return;
  }
  if (!ctx->is_object()) {
    errs.Add("", "'@context' is not an object");
    return;
  }
  for (const auto& term : kCroissantTerms) {
    if (!term.required_in_lint) continue;
    const json::value* got = ctx->get_object().if_contains(term.key);
    if (got == nullptr) {
      errs.Add("@context", std::string("missing mapping '") + term.key + "'");
    } else if (*got != TermValue(term)) {
      errs.Add("@context", std::string("mapping '") + term.key + "' is not " +
                               json::serialize(TermValue(term)));
    }
  }
}

// Adds the @id of `node` (if any) to `ids`, reporting duplicates.
void DefineId(const json::object& node, const std::string& where, std::set<std::string>& ids,
              Violations& errs) {
  const json::value* id = node.if_contains("@id");
  if (!IsNonEmptyString(id)) {
    errs.Add(where, "missing '@id'");
    return;
  }
  if (!ids.insert(std::string(id->get_string())).second) {
    errs.Add(where, "duplicate @id '" + std::string(id->get_string()) + "'");
  }
}

void ValidateDistribution(const json::value& dist, std::set<std::string>& ids, Violations& errs) {
  auto entries = AsList(dist);
  std::vector<std::pair<std::string, std::string>> contained_in;  // where, target
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string where = Indexed("distribution", i);
    if (!entries[i]->is_object()) {
      errs.Add(where, "not an object");
      continue;
    }
    const json::object& e = entries[i]->get_object();
    DefineId(e, where, ids, errs);
    if (!IsNonEmptyString(Find(e, {"name", "sc:name"}))) {
      errs.Add(where, "missing property 'name'");
    }
    if (const json::value* c = Find(e, {"containedIn", "sc:containedIn", "cr:containedIn"})) {
      for (const json::value* ref : AsList(*c)) contained_in.emplace_back(where, RefId(ref));
    }
    bool is_object = HasType(e, {"cr:FileObject", "http://mlcommons.org/croissant/FileObject"});
    bool is_set = HasType(e, {"cr:FileSet", "http://mlcommons.org/croissant/FileSet"});
    if (is_object) {
      if (!IsNonEmptyString(Find(e, {"contentUrl", "sc:contentUrl"}))) {
        errs.Add(where, "missing property 'contentUrl'");
      }
      const json::value* sha = Find(e, {"sha256", "sc:sha256"});
      const json::value* md5 = Find(e, {"md5", "cr:md5"});
      if (sha == nullptr && md5 == nullptr) {
        errs.Add(where, "missing checksum ('sha256' or 'md5')");
      }
      if (sha != nullptr && !(sha->is_string() && IsHex(sha->get_string(), 64))) {
        errs.Add(where, "sha256 is not 64 hex");
      }
      if (md5 != nullptr && !(md5->is_string() && IsHex(md5->get_string(), 32))) {
        errs.Add(where, "md5 is not 32 hex");
      }
      if (const json::value* size = Find(e, {"contentSize", "sc:contentSize"})) {
        static const std::regex re(R"(^\d+(\.\d+)?\s*([KMGTP]i?)?[Bb]?$)", std::regex::icase);
        if (!size->is_string() || !std::regex_match(std::string(size->get_string()), re)) {
          errs.Add(where, "contentSize is not a size such as '1024 B'");
        }
      }
    } else if (is_set) {
      const json::value* inc = Find(e, {"includes", "cr:includes"});
      bool ok = inc != nullptr && !AsList(*inc).empty();
      if (inc != nullptr) {
        for (const json::value* g : AsList(*inc)) ok = ok && IsNonEmptyString(g);
      }
      if (!ok) errs.Add(where, "missing property 'includes' (a glob)");
    } else {
      errs.Add(where, "@type is not cr:FileObject or cr:FileSet");
    }
    if ((is_object || is_set) &&
        !IsNonEmptyString(Find(e, {"encodingFormat", "sc:encodingFormat"}))) {
      // Required for FileSet by the brief; every FileObject we emit has one, and the spec's
      // loaders need it to read a file, so it is checked for both.
      errs.Add(where, "missing property 'encodingFormat'");
    }
  }
  for (const auto& [where, target] : contained_in) {
    if (target.empty() || ids.count(target) == 0) {
      errs.Add(where, "containedIn does not reference a distribution @id");
    }
  }
}

// Defines the @ids of record sets and their (sub)fields.
void DefineRecordSetIds(const json::value& node, const std::string& where,
                        std::set<std::string>& ids, Violations& errs) {
  if (!node.is_object()) {
    errs.Add(where, "not an object");
    return;
  }
  const json::object& o = node.get_object();
  DefineId(o, where, ids, errs);
  for (std::string_view key : {"field", "subField"}) {
    const json::value* children = Find(o, {key, "cr:" + std::string(key)});
    if (children == nullptr) continue;
    auto list = AsList(*children);
    for (size_t i = 0; i < list.size(); ++i) {
      DefineRecordSetIds(*list[i], where + "." + Indexed(key, i), ids, errs);
    }
  }
}

// Every node reference ({"@id": x} and nothing else, per the spec's ID mechanism) under `node`
// must resolve to a defined @id. Embedded JSON data ("data", "examples") is not walked.
void CheckReferences(const json::value& node, const std::string& where,
                     const std::set<std::string>& ids, Violations& errs) {
  if (node.is_array()) {
    const auto& arr = node.get_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      CheckReferences(arr[i], where + "[" + std::to_string(i) + "]", ids, errs);
    }
    return;
  }
  if (!node.is_object()) return;
  const json::object& o = node.get_object();
  if (o.size() == 1 && o.contains("@id")) {
    std::string id = RefId(&node);
    if (ids.count(id) == 0) errs.Add(where, "reference '" + id + "' does not resolve");
    return;
  }
  for (const auto& [key, value] : o) {
    if (key == "data" || key == "examples" || key == "cr:data" || key == "cr:examples") continue;
    CheckReferences(value, where + "." + std::string(key), ids, errs);
  }
}

// ---------------------------------------------------------------------------------------------
// DCAT validation.

void ValidateDcatDistribution(const json::value& node, const std::string& where, bool downloadable,
                              Violations& errs) {
  if (!node.is_object()) {
    errs.Add(where, "not an object");
    return;
  }
  const json::object& d = node.get_object();
  if (!HasType(d, {"dcat:Distribution", "http://www.w3.org/ns/dcat#Distribution"})) {
    errs.Add(where, "@type is not dcat:Distribution");
  }
  if (RefId(d.if_contains("dcat:accessURL")).empty()) {
    errs.Add(where, "missing property 'dcat:accessURL'");
  }
  if (const json::value* dl = d.if_contains("dcat:downloadURL")) {
    if (!downloadable) {
      errs.Add(where, "dcat:downloadURL present for a restricted or hidden dataset");
    } else if (RefId(dl).empty()) {
      errs.Add(where, "dcat:downloadURL is not an IRI");
    }
  }
  if (const json::value* size = d.if_contains("dcat:byteSize")) {
    bool ok = false;
    if (size->is_uint64()) {
      ok = true;
    } else if (size->is_int64()) {
      ok = size->get_int64() >= 0;
    } else if (size->is_object()) {
      const json::value* v = size->get_object().if_contains("@value");
      const json::value* t = size->get_object().if_contains("@type");
      bool typed =
          t == nullptr || (t->is_string() && (t->get_string() == "xsd:nonNegativeInteger" ||
                                              t->get_string() == "xsd:integer"));
      if (v != nullptr && typed) {
        if (v->is_uint64()) {
          ok = true;
        } else if (v->is_int64()) {
          ok = v->get_int64() >= 0;
        } else if (v->is_string()) {
          std::string_view s = v->get_string();
          ok = !s.empty() &&
               std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
        }
      }
    }
    if (!ok) errs.Add(where, "dcat:byteSize is not a non-negative integer");
  }
  if (const json::value* ck = d.if_contains("spdx:checksum")) {
    const json::object* c = ck->if_object();
    if (c == nullptr || !HasType(*c, {"spdx:Checksum", "http://spdx.org/rdf/terms#Checksum"})) {
      errs.Add(where, "spdx:checksum is not an spdx:Checksum");
    } else {
      std::string algo = RefId(c->if_contains("spdx:algorithm"));
      auto value = LiteralString(c->if_contains("spdx:checksumValue"));
      if (algo.empty()) errs.Add(where, "spdx:checksum has no spdx:algorithm");
      if (!value) {
        errs.Add(where, "spdx:checksum has no spdx:checksumValue");
      } else if ((algo == "spdx:checksumAlgorithm_sha256" ||
                  algo == "http://spdx.org/rdf/terms#checksumAlgorithm_sha256") &&
                 !IsHex(*value, 64)) {
        errs.Add(where, "spdx:checksumValue is not 64 hex");
      }
    }
  }
}

// Reads our access level back from dct:accessRights (a plain literal, or a RightsStatement node
// with an rdfs:label) and checks the EU access-right concept next to it, if any, agrees.
std::optional<std::string> AccessLevel(const json::object& ds, const std::string& where,
                                       Violations& errs) {
  const json::value* ar = ds.if_contains("dct:accessRights");
  if (ar == nullptr) {
    errs.Add(where, "missing property 'dct:accessRights'");
    return std::nullopt;
  }
  std::optional<std::string> level;
  std::vector<std::string> eu;
  for (const json::value* item : AsList(*ar)) {
    if (item->is_string()) {
      level = std::string(item->get_string());
    } else if (item->is_object()) {
      const json::object& o = item->get_object();
      if (auto label = LiteralString(Find(o, {"rdfs:label", "@value"}))) {
        level = std::string(*label);
      }
      std::string id = RefId(item);
      if (id.starts_with(kEuAccessRight)) eu.push_back(id);
    }
  }
  if (!level) {
    errs.Add(where, "dct:accessRights carries no access level literal");
    return std::nullopt;
  }
  if (!IsKnownAccessLevel(*level)) {
    errs.Add(where, "unknown access level '" + *level + "'");
    return level;
  }
  for (const auto& id : eu) {
    if (id != EuAccessRight(*level)) {
      errs.Add(where, "access right <" + id + "> does not match access level '" + *level + "'");
    }
  }
  return level;
}

void ValidateDcatDataset(const json::value& node, const std::string& where, Violations& errs) {
  if (!node.is_object()) {
    errs.Add(where, "not an object");
    return;
  }
  const json::object& ds = node.get_object();
  if (!HasType(ds, {"dcat:Dataset", "http://www.w3.org/ns/dcat#Dataset"})) {
    errs.Add(where, "@type is not dcat:Dataset");
  }
  if (!IsNonEmptyString(ds.if_contains("@id"))) errs.Add(where, "missing '@id'");
  for (std::string_view key : {"dct:title", "dct:description", "dct:identifier"}) {
    auto s = LiteralString(ds.if_contains(key));
    if (!s || s->empty()) errs.Add(where, "missing property '" + std::string(key) + "'");
  }
  if (const json::value* lic = ds.if_contains("dct:license")) {
    if (RefId(lic).empty()) errs.Add(where, "dct:license is not an IRI");
  }
  if (const json::value* kw = ds.if_contains("dcat:keyword")) {
    for (const json::value* k : AsList(*kw)) {
      if (!LiteralString(k)) errs.Add(where, "dcat:keyword is not a list of strings");
    }
  }
  for (std::string_view key : {"dct:issued", "dct:modified"}) {
    const json::value* d = ds.if_contains(key);
    if (d == nullptr) continue;
    const json::object* o = d->if_object();
    auto s = LiteralString(d);
    const json::value* t = o != nullptr ? o->if_contains("@type") : nullptr;
    if (!s || !IsIsoDateTime(*s) || t == nullptr || !t->is_string() ||
        t->get_string() != "xsd:dateTime") {
      errs.Add(where, std::string(key) + " is not an xsd:dateTime");
    }
  }
  if (const json::value* pub = ds.if_contains("dct:publisher")) {
    const json::object* p = pub->if_object();
    if (p == nullptr || !HasType(*p, {"foaf:Agent", "foaf:Organization", "foaf:Person"}) ||
        !LiteralString(p->if_contains("foaf:name"))) {
      errs.Add(where, "dct:publisher is not a foaf:Agent with a foaf:name");
    }
  }
  std::optional<std::string> level = AccessLevel(ds, where, errs);
  bool downloadable = level && IsDownloadableAccessLevel(*level);
  if (const json::value* dist = ds.if_contains("dcat:distribution")) {
    auto list = AsList(*dist);
    for (size_t j = 0; j < list.size(); ++j) {
      ValidateDcatDistribution(*list[j], where + "." + Indexed("distribution", j), downloadable,
                               errs);
    }
  }
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Public helpers.

json::object CroissantContext() {
  json::object ctx;
  for (const auto& term : kCroissantTerms) ctx[term.key] = TermValue(term);
  return ctx;
}

bool IsDownloadableAccessLevel(std::string_view level) {
  return level == "open" || level == "registered" || level == "consortium" || level == "project";
}

std::string EncodePath(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    out += PercentEncode(seg);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

std::string FileDownloadUrl(std::string_view base_url, std::string_view dataset_id,
                            std::string_view version_id, std::string_view path) {
  return DatasetUrl(base_url, dataset_id) + "/versions/" + PercentEncode(version_id) +
         "/file?path=" + EncodePath(path);
}

std::string GuessEncodingFormat(std::string_view path) {
  struct Format {
    std::string_view ext, mime;
  };
  static constexpr Format kFormats[] = {
      {"csv", "text/csv"},
      {"json", "application/json"},
      {"jsonl", "application/jsonlines"},
      {"parquet", "application/x-parquet"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"txt", "text/plain"},
      {"zip", "application/zip"},
  };
  std::string ext = Extension(path);
  for (const auto& f : kFormats) {
    if (f.ext == ext) return std::string(f.mime);
  }
  return "application/octet-stream";
}

// -----------------------------------------------------------------------------------------------
// Croissant.

json::object CroissantDocument(const DatasetMeta& ds, const MetaVersion& v,
                               const std::vector<MetaFile>& files, const std::string& base_url,
                               bool include_files) {
  json::object doc;
  doc["@context"] = CroissantContext();
  doc["@type"] = "sc:Dataset";
  doc["conformsTo"] = kCroissantConformsTo;
  doc["name"] = ds.name.empty() ? Title(ds) : ds.name;
  if (!ds.title.empty() && ds.title != ds.name) doc["alternateName"] = ds.title;
  doc["description"] = Description(ds);
  if (!ds.license_spdx.empty()) doc["license"] = LicenseUrl(ds.license_spdx);
  doc["url"] = DatasetUrl(base_url, ds.id);
  doc["identifier"] = ds.id;
  doc["version"] = VersionName(v);
  if (ds.created_at_ms > 0) doc["dateCreated"] = FormatTimeSeconds(ds.created_at_ms);
  if (v.created_at_ms > 0) doc["datePublished"] = FormatTimeSeconds(v.created_at_ms);
  int64_t modified = std::max(ds.updated_at_ms, v.created_at_ms);
  if (modified > 0) doc["dateModified"] = FormatTimeSeconds(modified);
  doc["keywords"] = StringArray(ds.tags);

  json::object org{{"@type", "sc:Organization"}, {"name", ds.owner_name}};
  if (!ds.owner_url.empty()) org["url"] = ds.owner_url;
  doc["creator"] = org;
  doc["publisher"] = std::move(org);
  if (!ds.contributors.empty()) {
    json::array people;
    for (const auto& u : ds.contributors) {
      people.push_back(json::object{{"@type", "sc:Person"}, {"name", u}});
    }
    doc["contributor"] = std::move(people);
  }
  doc["isAccessibleForFree"] = true;
  if (ds.access_level != "open") {
    doc["conditionsOfAccess"] = "openlab access level '" + ds.access_level + "'";
  }

  bool downloadable = IsDownloadableAccessLevel(ds.access_level);
  doc["distribution"] =
      include_files && downloadable ? FileObjects(ds, v, files, base_url) : FileSets(v, files);
  return doc;
}

// -----------------------------------------------------------------------------------------------
// DCAT.

json::object DcatCatalog(const std::vector<CatalogEntry>& entries, const std::string& base_url,
                         const std::string& catalog_title) {
  json::object ctx;
  for (const auto& p : kDcatPrefixes) ctx[p.key] = p.iri;

  json::array datasets;
  for (const auto& [ds, latest] : entries) {
    std::string page = DatasetUrl(base_url, ds.id);
    json::object d;
    d["@id"] = page;
    d["@type"] = "dcat:Dataset";
    d["dct:identifier"] = ds.id;
    d["dct:title"] = Title(ds);
    d["dct:description"] = Description(ds);
    if (!ds.license_spdx.empty()) {
      d["dct:license"] = json::object{{"@id", LicenseUrl(ds.license_spdx)}};
    }
    d["dcat:keyword"] = StringArray(ds.tags);
    json::object pub{{"@type", "foaf:Organization"}, {"foaf:name", ds.owner_name}};
    if (!ds.owner_url.empty()) pub["foaf:homepage"] = json::object{{"@id", ds.owner_url}};
    d["dct:publisher"] = std::move(pub);
    if (!ds.contributors.empty()) {
      json::array people;
      for (const auto& u : ds.contributors) {
        people.push_back(json::object{{"@type", "foaf:Person"}, {"foaf:name", u}});
      }
      d["dct:contributor"] = std::move(people);
    }
    if (ds.created_at_ms > 0) {
      d["dct:issued"] = TypedLiteral(FormatTimeSeconds(ds.created_at_ms), "xsd:dateTime");
    }
    int64_t modified = std::max(ds.updated_at_ms, latest ? latest->created_at_ms : 0);
    if (modified > 0) d["dct:modified"] = TypedLiteral(FormatTimeSeconds(modified), "xsd:dateTime");
    // dct:accessRights ranges over dct:RightsStatement: the EU authority-table concept, and our
    // own level as a labelled statement (which ValidateDcatCatalog reads back).
    d["dct:accessRights"] = json::array{
        json::object{{"@id", EuAccessRight(ds.access_level)}},
        json::object{{"@type", "dct:RightsStatement"}, {"rdfs:label", ds.access_level}},
    };
    d["dcat:landingPage"] = json::object{{"@id", page}};
    if (latest) {
      d["dcat:version"] = latest->id;
      json::object dist;
      dist["@type"] = "dcat:Distribution";
      dist["dct:title"] = "Version " + VersionName(*latest);
      if (IsDownloadableAccessLevel(ds.access_level)) {
        std::string manifest = ManifestUrl(base_url, ds.id, latest->id);
        dist["dcat:accessURL"] = json::object{{"@id", manifest}};
        dist["dcat:downloadURL"] = json::object{{"@id", manifest}};
        dist["dcat:byteSize"] =
            TypedLiteral(std::to_string(latest->total_bytes), "xsd:nonNegativeInteger");
        // The manifest is JSON lines ("openlab-manifest/1", see data/catalog/manifest.h); its SHA-256
        // is the version id. byteSize is the content of the version the manifest lists, which
        // is what a harvester wants to know before fetching the files.
        dist["dct:format"] = "application/jsonlines";
        dist["spdx:checksum"] = json::object{
            {"@type", "spdx:Checksum"},
            {"spdx:algorithm", json::object{{"@id", "spdx:checksumAlgorithm_sha256"}}},
            {"spdx:checksumValue", TypedLiteral(AsciiLower(latest->id), "xsd:hexBinary")},
        };
      } else {
        dist["dcat:accessURL"] = json::object{{"@id", page}};
      }
      d["dcat:distribution"] = json::array{std::move(dist)};
    }
    datasets.push_back(std::move(d));
  }

  json::object cat;
  cat["@context"] = std::move(ctx);
  cat["@id"] = base_url + "/";
  cat["@type"] = "dcat:Catalog";
  cat["dct:title"] = catalog_title;
  cat["foaf:homepage"] = json::object{{"@id", base_url + "/"}};
  cat["dcat:dataset"] = std::move(datasets);
  return cat;
}

// -----------------------------------------------------------------------------------------------
// Validators.

Status ValidateCroissant(const json::value& value) {
  if (!value.is_object()) return InvalidArgument("document is not a JSON object");
  const json::object& doc = value.get_object();
  Violations errs;
  ValidateCroissantContext(doc, errs);

  if (!doc.contains("@type")) {
    errs.Add("", "missing property '@type'");
  } else if (!HasType(doc, {"sc:Dataset", "schema:Dataset", "Dataset", "https://schema.org/Dataset",
                            "http://schema.org/Dataset"})) {
    errs.Add("", "@type is not sc:Dataset");
  }

  const json::value* conforms = Find(doc, {"conformsTo", "dct:conformsTo"});
  if (conforms == nullptr) {
    errs.Add("", "missing property 'conformsTo'");
  } else {
    bool ok = false;
    for (const json::value* c : AsList(*conforms)) {
      ok = ok || (c->is_string() && c->get_string() == kCroissantConformsTo);
    }
    if (!ok) errs.Add("", "conformsTo is not '" + std::string(kCroissantConformsTo) + "'");
  }

  for (std::string_view key : {"name", "description", "license", "url"}) {
    const json::value* v = Find(doc, {key, "sc:" + std::string(key)});
    if (v == nullptr) {
      errs.Add("", "missing property '" + std::string(key) + "'");
      continue;
    }
    // license may also name several licenses, or CreativeWork nodes (spec: MANY, URL or
    // CreativeWork); each must be usable.
    bool ok = IsNonEmptyString(v);
    if (key == "license" && !ok && (v->is_array() || v->is_object())) {
      auto list = AsList(*v);
      ok = !list.empty() && std::all_of(list.begin(), list.end(), [](const json::value* l) {
        return IsNonEmptyString(l) ||
               (l->is_object() && (IsNonEmptyString(l->get_object().if_contains("@id")) ||
                                   IsNonEmptyString(l->get_object().if_contains("url")) ||
                                   IsNonEmptyString(l->get_object().if_contains("name"))));
      });
    }
    if (!ok) errs.Add("", "property '" + std::string(key) + "' is not a non-empty string");
  }

  std::set<std::string> ids;
  const json::value* dist = Find(doc, {"distribution", "sc:distribution"});
  if (dist == nullptr) {
    errs.Add("", "missing property 'distribution'");
  } else {
    ValidateDistribution(*dist, ids, errs);
  }

  if (const json::value* rs = Find(doc, {"recordSet", "cr:recordSet"})) {
    auto list = AsList(*rs);
    for (size_t i = 0; i < list.size(); ++i) {
      DefineRecordSetIds(*list[i], Indexed("recordSet", i), ids, errs);
    }
    for (size_t i = 0; i < list.size(); ++i) {
      CheckReferences(*list[i], Indexed("recordSet", i), ids, errs);
    }
  }
  return errs.ToStatus();
}

Status ValidateDcatCatalog(const json::value& value) {
  if (!value.is_object()) return InvalidArgument("document is not a JSON object");
  const json::object& cat = value.get_object();
  Violations errs;

  const json::value* ctx = cat.if_contains("@context");
  if (ctx == nullptr) {
    errs.Add("", "missing property '@context'");
  } else if (!ctx->is_object()) {
    errs.Add("", "'@context' is not an object");
  } else {
    for (size_t i = 0; i < kRequiredDcatPrefixes; ++i) {
      const Prefix& p = kDcatPrefixes[i];
      const json::value* got = ctx->get_object().if_contains(p.key);
      if (got == nullptr) {
        errs.Add("@context", std::string("missing prefix '") + p.key + "'");
      } else if (!got->is_string() || got->get_string() != p.iri) {
        errs.Add("@context", std::string("prefix '") + p.key + "' is not '" + p.iri + "'");
      }
    }
  }
  if (!HasType(cat, {"dcat:Catalog", "http://www.w3.org/ns/dcat#Catalog"})) {
    errs.Add("", "@type is not dcat:Catalog");
  }
  auto title = LiteralString(cat.if_contains("dct:title"));
  if (!title || title->empty()) errs.Add("", "missing property 'dct:title'");

  const json::value* datasets = cat.if_contains("dcat:dataset");
  if (datasets == nullptr) {
    errs.Add("", "missing property 'dcat:dataset'");
  } else if (!datasets->is_array()) {
    errs.Add("", "dcat:dataset is not a list");
  } else {
    const json::array& arr = datasets->get_array();
    for (size_t i = 0; i < arr.size(); ++i)
      ValidateDcatDataset(arr[i], Indexed("dataset", i), errs);
  }
  return errs.ToStatus();
}

}  // namespace openlab::data
