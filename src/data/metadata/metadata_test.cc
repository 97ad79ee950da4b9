#include "data/metadata/metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace openlab::data {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBase[] = "https://openlab.example.org";

std::string Hex64(char c) { return std::string(64, c); }

// gtest compares json::value with json::value, not with std::string.
json::value J(const std::string& s) { return json::value(s); }

DatasetMeta SampleDataset(std::string access_level = "open") {
  DatasetMeta ds;
  ds.id = "ds_01JABCDEF";
  ds.name = "gwangju-traffic-2025";
  ds.title = "Gwangju traffic counts 2025";
  ds.description = "Hourly vehicle counts from 120 intersections in Gwangju.";
  ds.license_spdx = "CC-BY-4.0";
  ds.tags = {"mobility", "traffic"};
  ds.access_level = std::move(access_level);
  ds.owner_name = "GIST AI Lab";
  ds.owner_url = "https://ai.gist.ac.kr";
  ds.created_at_ms = 1767225600000;  // 2026-01-01T00:00:00Z
  ds.updated_at_ms = 1767312000000;  // 2026-01-02T00:00:00Z
  ds.contributors = {"alice", "bob"};
  return ds;
}

MetaVersion SampleVersion() {
  MetaVersion v;
  v.id = Hex64('a');
  v.tags = {"v1.0.0"};
  v.created_at_ms = 1767398400500;  // 2026-01-03T00:00:00.500Z
  v.total_bytes = 3000;
  v.file_count = 3;
  return v;
}

std::vector<MetaFile> SampleFiles() {
  return {
      {"counts/2025-01.csv", 1000, Hex64('1')},
      {"counts/2025-02.parquet", 1500, Hex64('2')},
      {"README.txt", 500, Hex64('3')},
  };
}

json::object SampleCroissant() {
  return CroissantDocument(SampleDataset(), SampleVersion(), SampleFiles(), kBase, true);
}

json::object SampleFileSetCroissant() {
  return CroissantDocument(SampleDataset("restricted"), SampleVersion(), SampleFiles(), kBase,
                           true);
}

json::object SampleCatalog() {
  std::vector<CatalogEntry> entries;
  entries.push_back({SampleDataset("open"), SampleVersion()});
  entries.push_back({SampleDataset("restricted"), SampleVersion()});
  entries.push_back({SampleDataset("registered"), std::nullopt});
  entries[1].ds.id = "ds_01JRESTRICTED";
  entries[2].ds.id = "ds_01JNOVERSION";
  return DcatCatalog(entries, kBase, "openlab datasets");
}

json::object& Dist(json::object& doc, size_t i) {
  return doc["distribution"].as_array()[i].as_object();
}

json::object& DcatDataset(json::object& cat, size_t i) {
  return cat["dcat:dataset"].as_array()[i].as_object();
}

json::object& DcatDist(json::object& cat, size_t i) {
  return DcatDataset(cat, i)["dcat:distribution"].as_array()[0].as_object();
}

// ---------------------------------------------------------------------------------------------
// Helpers.

TEST(MetadataHelpers, GuessesEncodingFormatFromExtension) {
  struct Case {
    const char* path;
    const char* format;
  } cases[] = {
      {"a.csv", "text/csv"},
      {"dir/A.CSV", "text/csv"},
      {"x.json", "application/json"},
      {"x.jsonl", "application/jsonlines"},
      {"x.parquet", "application/x-parquet"},
      {"x.png", "image/png"},
      {"x.jpg", "image/jpeg"},
      {"x.jpeg", "image/jpeg"},
      {"notes.txt", "text/plain"},
      {"bundle.zip", "application/zip"},
      {"model.bin", "application/octet-stream"},
      {"README", "application/octet-stream"},
      {".csv", "application/octet-stream"},  // a hidden file named ".csv", no extension
      {"a.csv/b", "application/octet-stream"},
  };
  for (const auto& c : cases) EXPECT_EQ(GuessEncodingFormat(c.path), c.format) << c.path;
}

TEST(MetadataHelpers, FormatsUtcSeconds) {
  EXPECT_EQ(FormatTimeSeconds(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimeSeconds(1767225600000), "2026-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimeSeconds(1767225600999), "2026-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimeSeconds(1767225661000), "2026-01-01T00:01:01Z");
}

TEST(MetadataHelpers, PercentEncodesEachPathSegment) {
  EXPECT_EQ(EncodePath("a/b c/d.csv"), "a/b%20c/d.csv");
  EXPECT_EQ(EncodePath("q\"uote's/100%?#&+=.txt"), "q%22uote%27s/100%25%3F%23%26%2B%3D.txt");
  EXPECT_EQ(EncodePath("\xED\x95\x9C\xEA\xB8\x80/\xC3\xBC.csv"),  // "한글/ü.csv"
            "%ED%95%9C%EA%B8%80/%C3%BC.csv");
  EXPECT_EQ(EncodePath("safe-._~AZaz09"), "safe-._~AZaz09");
  EXPECT_EQ(FileDownloadUrl(kBase, "ds_1", Hex64('b'), "dir/x y.csv"),
            std::string(kBase) + "/api/v1/datasets/ds_1/versions/" + Hex64('b') +
                "/file?path=dir/x%20y.csv");
}

TEST(MetadataHelpers, DownloadableAccessLevels) {
  for (const char* level : {"open", "registered", "consortium", "project"}) {
    EXPECT_TRUE(IsDownloadableAccessLevel(level)) << level;
  }
  for (const char* level : {"restricted", "hidden", "", "OPEN", "secret"}) {
    EXPECT_FALSE(IsDownloadableAccessLevel(level)) << level;
  }
}

// ---------------------------------------------------------------------------------------------
// Croissant.

TEST(Croissant, ContextHasTheSpecMappings) {
  json::object ctx = CroissantContext();
  EXPECT_EQ(ctx["@language"], "en");
  EXPECT_EQ(ctx["@vocab"], "https://schema.org/");
  EXPECT_EQ(ctx["sc"], "https://schema.org/");
  EXPECT_EQ(ctx["cr"], "http://mlcommons.org/croissant/");
  EXPECT_EQ(ctx["dct"], "http://purl.org/dc/terms/");
  EXPECT_EQ(ctx["rai"], "http://mlcommons.org/croissant/RAI/");
  EXPECT_EQ(ctx["wd"], "https://www.wikidata.org/wiki/");
  EXPECT_EQ(ctx["conformsTo"], "dct:conformsTo");
  EXPECT_EQ(ctx["citeAs"], "cr:citeAs");
  EXPECT_EQ(ctx["data"], (json::object{{"@id", "cr:data"}, {"@type", "@json"}}));
  EXPECT_EQ(ctx["examples"], (json::object{{"@id", "cr:examples"}, {"@type", "@json"}}));
  EXPECT_EQ(ctx["dataType"], (json::object{{"@id", "cr:dataType"}, {"@type", "@vocab"}}));
  for (const char* term : {"column",     "extract", "field",       "fileProperty",  "fileObject",
                           "fileSet",    "format",  "includes",    "isLiveDataset", "jsonPath",
                           "key",        "md5",     "parentField", "path",          "recordSet",
                           "references", "regex",   "repeated",    "replace",       "samplingRate",
                           "separator",  "source",  "subField",    "transform"}) {
    ASSERT_TRUE(ctx.contains(term)) << term;
    EXPECT_EQ(ctx[term], json::value(std::string("cr:") + term)) << term;
  }
  EXPECT_EQ(SampleCroissant()["@context"], json::value(ctx));
}

TEST(Croissant, DocumentCarriesTheDatasetLevelProperties) {
  json::object doc = SampleCroissant();
  EXPECT_TRUE(ValidateCroissant(doc).ok()) << ValidateCroissant(doc).message();
  EXPECT_EQ(doc["@type"], "sc:Dataset");
  EXPECT_EQ(doc["conformsTo"], "http://mlcommons.org/croissant/1.0");
  EXPECT_EQ(doc["name"], "gwangju-traffic-2025");
  EXPECT_EQ(doc["alternateName"], "Gwangju traffic counts 2025");
  EXPECT_EQ(doc["license"], "https://spdx.org/licenses/CC-BY-4.0.html");
  EXPECT_EQ(doc["url"], "https://openlab.example.org/api/v1/datasets/ds_01JABCDEF");
  EXPECT_EQ(doc["version"], "v1.0.0");
  EXPECT_EQ(doc["dateCreated"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(doc["datePublished"], "2026-01-03T00:00:00Z");
  EXPECT_EQ(doc["dateModified"], "2026-01-03T00:00:00Z");
  EXPECT_EQ(doc["keywords"], (json::array{"mobility", "traffic"}));
  EXPECT_EQ(doc["creator"], (json::object{{"@type", "sc:Organization"},
                                          {"name", "GIST AI Lab"},
                                          {"url", "https://ai.gist.ac.kr"}}));
  EXPECT_EQ(doc["publisher"], doc["creator"]);
  EXPECT_EQ(doc["contributor"].as_array().size(), 2u);
  EXPECT_EQ(doc["isAccessibleForFree"], true);
  EXPECT_FALSE(doc.contains("recordSet"));

  ASSERT_EQ(doc["distribution"].as_array().size(), 3u);
  json::object& f0 = Dist(doc, 0);
  EXPECT_EQ(f0["@type"], "cr:FileObject");
  EXPECT_EQ(f0["@id"], "counts/2025-01.csv");
  EXPECT_EQ(f0["name"], "counts/2025-01.csv");
  EXPECT_EQ(f0["contentUrl"],
            J("https://openlab.example.org/api/v1/datasets/ds_01JABCDEF/versions/" + Hex64('a') +
              "/file?path=counts/2025-01.csv"));
  EXPECT_EQ(f0["contentSize"], "1000 B");
  EXPECT_EQ(f0["encodingFormat"], "text/csv");
  EXPECT_EQ(f0["sha256"], J(Hex64('1')));
  EXPECT_EQ(Dist(doc, 1)["encodingFormat"], "application/x-parquet");
  EXPECT_EQ(Dist(doc, 2)["encodingFormat"], "text/plain");
}

TEST(Croissant, FallsBackForMissingTitleDescriptionAndTags) {
  DatasetMeta ds = SampleDataset();
  ds.title.clear();
  ds.description.clear();
  MetaVersion v = SampleVersion();
  v.tags.clear();
  json::object doc = CroissantDocument(ds, v, SampleFiles(), kBase, true);
  EXPECT_TRUE(ValidateCroissant(doc).ok()) << ValidateCroissant(doc).message();
  EXPECT_FALSE(doc.contains("alternateName"));
  EXPECT_EQ(doc["version"], J(Hex64('a')));
  EXPECT_THAT(std::string(doc["description"].as_string()), HasSubstr("gwangju-traffic-2025"));
}

TEST(Croissant, WithoutFilesDescribesContentByGlob) {
  json::object doc =
      CroissantDocument(SampleDataset(), SampleVersion(), SampleFiles(), kBase, false);
  EXPECT_TRUE(ValidateCroissant(doc).ok()) << ValidateCroissant(doc).message();
  json::array& dist = doc["distribution"].as_array();
  ASSERT_EQ(dist.size(), 3u);  // csv, parquet, txt
  for (auto& d : dist) {
    EXPECT_EQ(d.at("@type"), "cr:FileSet");
    EXPECT_FALSE(d.as_object().contains("contentUrl"));
  }
  EXPECT_EQ(dist[0].at("@id"), "files/csv");
  EXPECT_EQ(dist[0].at("includes"), "**/*.csv");
  EXPECT_EQ(dist[0].at("encodingFormat"), "text/csv");
  EXPECT_EQ(dist[1].at("includes"), "**/*.parquet");
  EXPECT_EQ(dist[2].at("includes"), "**/*.txt");

  // Files with no or odd extensions go to a catch-all set that excludes the other globs.
  std::vector<MetaFile> odd = {
      {"a.csv", 1, Hex64('1')}, {"LICENSE", 2, Hex64('2')}, {"weird.c[sv]", 3, Hex64('3')}};
  doc = CroissantDocument(SampleDataset(), SampleVersion(), odd, kBase, false);
  EXPECT_TRUE(ValidateCroissant(doc).ok()) << ValidateCroissant(doc).message();
  ASSERT_EQ(doc["distribution"].as_array().size(), 2u);
  json::object& other = Dist(doc, 1);
  EXPECT_EQ(other["@id"], "files/other");
  EXPECT_EQ(other["includes"], "**");
  EXPECT_EQ(other["excludes"], (json::array{"**/*.csv"}));
  EXPECT_EQ(other["encodingFormat"], "application/octet-stream");

  // No file list at all: one set for everything.
  doc = CroissantDocument(SampleDataset(), SampleVersion(), {}, kBase, false);
  EXPECT_TRUE(ValidateCroissant(doc).ok()) << ValidateCroissant(doc).message();
  ASSERT_EQ(doc["distribution"].as_array().size(), 1u);
  EXPECT_EQ(Dist(doc, 0)["includes"], "**");
}

TEST(Croissant, RestrictedAndHiddenDataHaveNoDownloadUrls) {
  for (const char* level : {"restricted", "hidden"}) {
    for (bool include_files : {true, false}) {
      json::object doc = CroissantDocument(SampleDataset(level), SampleVersion(), SampleFiles(),
                                           kBase, include_files);
      EXPECT_TRUE(ValidateCroissant(doc).ok()) << ValidateCroissant(doc).message();
      std::string text = json::serialize(doc);
      EXPECT_THAT(text, Not(HasSubstr("contentUrl"))) << level;
      EXPECT_THAT(text, Not(HasSubstr("/file?path="))) << level;
      for (auto& d : doc["distribution"].as_array()) EXPECT_EQ(d.at("@type"), "cr:FileSet");
      EXPECT_THAT(std::string(doc["conditionsOfAccess"].as_string()), HasSubstr(level));
    }
  }
  // Every downloadable level lists its files.
  for (const char* level : {"open", "registered", "consortium", "project"}) {
    json::object doc =
        CroissantDocument(SampleDataset(level), SampleVersion(), SampleFiles(), kBase, true);
    EXPECT_EQ(Dist(doc, 0)["@type"], "cr:FileObject") << level;
  }
}

TEST(Croissant, OddCharactersAreEscapedAndEncoded) {
  DatasetMeta ds = SampleDataset();
  ds.name = "odd \"name\" / with \\ slash";
  ds.title = "Ünïcödé \xED\x95\x9C\xEA\xB8\x80 title\nwith newline\t& <tags>";
  ds.description = "He said \"hi\"\u0001";
  ds.tags = {"quote\"tag", "\xF0\x9F\x9A\x97"};  // an emoji
  ds.owner_name = "O'Brien & \"Sons\"";
  std::vector<MetaFile> files = {
      {"dir with space/quo\"te's.csv", 1, Hex64('1')},
      {"\xED\x95\x9C\xEA\xB8\x80/\xC3\xBC 100%?#.json", 2, Hex64('2')},
      {"a/b/c/d.txt", 3, Hex64('3')},
  };
  json::object doc = CroissantDocument(ds, SampleVersion(), files, kBase, true);
  std::string text = json::serialize(doc);
  json::value back = json::parse(text);  // throws if the output were not valid JSON
  EXPECT_EQ(back, json::value(doc));
  EXPECT_TRUE(ValidateCroissant(back).ok()) << ValidateCroissant(back).message();
  EXPECT_EQ(back.at("alternateName"), J(ds.title));
  EXPECT_EQ(back.at("description"), J(ds.description));

  std::string prefix =
      std::string(kBase) + "/api/v1/datasets/ds_01JABCDEF/versions/" + Hex64('a') + "/file?path=";
  const json::array& dist = back.at("distribution").as_array();
  EXPECT_EQ(dist[0].at("contentUrl"), J(prefix + "dir%20with%20space/quo%22te%27s.csv"));
  EXPECT_EQ(dist[1].at("contentUrl"), J(prefix + "%ED%95%9C%EA%B8%80/%C3%BC%20100%25%3F%23.json"));
  EXPECT_EQ(dist[2].at("contentUrl"), J(prefix + "a/b/c/d.txt"));
  EXPECT_EQ(dist[0].at("name"), J(files[0].path));  // the name stays as written
  for (const auto& d : dist) {
    // Only the one '?' that starts the query; the path inside it is fully encoded.
    std::string url(d.at("contentUrl").as_string());
    std::string query = url.substr(url.find("?path=") + 6);
    EXPECT_EQ(query.find_first_of(" \"'?#<>\\&"), std::string::npos) << url;
  }
}

TEST(Croissant, RoundTripsThroughSerialization) {
  for (const json::object& doc : {SampleCroissant(), SampleFileSetCroissant()}) {
    json::value back = json::parse(json::serialize(doc));
    EXPECT_EQ(back, json::value(doc));
    EXPECT_TRUE(ValidateCroissant(back).ok()) << ValidateCroissant(back).message();
  }
}

// The validator names the violation for each required piece removed.
TEST(CroissantValidator, ReportsEachMissingTopLevelProperty) {
  for (const char* key : {"@context", "@type", "conformsTo", "name", "description", "license",
                          "url", "distribution"}) {
    json::object doc = SampleCroissant();
    doc.erase(key);
    Status st = ValidateCroissant(doc);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << key;
    EXPECT_THAT(st.message(), HasSubstr(std::string("missing property '") + key + "'")) << key;
  }
}

TEST(CroissantValidator, ReportsEachMissingContextMapping) {
  json::object ctx = CroissantContext();
  for (const auto& [key, value] : ctx) {
    json::object doc = SampleCroissant();
    doc["@context"].as_object().erase(key);
    Status st = ValidateCroissant(doc);
    if (key == "samplingRate" || key == "wd") {  // emitted, not required
      EXPECT_TRUE(st.ok()) << key << ": " << st.message();
      continue;
    }
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << key;
    EXPECT_THAT(st.message(), HasSubstr("@context: missing mapping '" + std::string(key) + "'"));
  }
}

struct Mutation {
  const char* name;
  std::function<void(json::object&)> mutate;
  const char* expected;  // a substring of the message; nullptr = the document stays valid
};

void RunMutations(const std::vector<Mutation>& cases, const std::function<json::object()>& make,
                  const std::function<Status(const json::value&)>& validate) {
  for (const auto& c : cases) {
    json::object doc = make();
    c.mutate(doc);
    Status st = validate(doc);
    if (c.expected == nullptr) {
      EXPECT_TRUE(st.ok()) << c.name << ": " << st.message();
    } else {
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.name;
      EXPECT_THAT(st.message(), HasSubstr(c.expected)) << c.name;
    }
  }
}

TEST(CroissantValidator, ReportsWrongValues) {
  std::vector<Mutation> cases = {
      {"context not object", [](auto& d) { d["@context"] = "https://example.org/ctx"; },
       "'@context' is not an object"},
      {"cr prefix wrong",
       [](auto& d) { d["@context"].as_object()["cr"] = "http://mlcommons.org/schema/"; },
       "@context: mapping 'cr' is not \"http://mlcommons.org/croissant/\""},
      {"data not @json", [](auto& d) { d["@context"].as_object()["data"] = "cr:data"; },
       "@context: mapping 'data' is not"},
      {"type", [](auto& d) { d["@type"] = "sc:CreativeWork"; }, "@type is not sc:Dataset"},
      {"type full IRI", [](auto& d) { d["@type"] = "https://schema.org/Dataset"; }, nullptr},
      {"type list",
       [](auto& d) {
         d["@type"] = json::array{"sc:Dataset", "cr:Thing"};
       },
       nullptr},
      {"conformsTo 0.8", [](auto& d) { d["conformsTo"] = "http://mlcommons.org/croissant/0.8"; },
       "conformsTo is not 'http://mlcommons.org/croissant/1.0'"},
      {"conformsTo list",
       [](auto& d) {
         d["conformsTo"] = json::array{"http://mlcommons.org/croissant/1.0", "x"};
       },
       nullptr},
      {"name empty", [](auto& d) { d["name"] = ""; }, "property 'name' is not a non-empty string"},
      {"description number", [](auto& d) { d["description"] = 42; },
       "property 'description' is not a non-empty string"},
      {"url empty", [](auto& d) { d["url"] = ""; }, "property 'url' is not a non-empty string"},
      {"license list",
       [](auto& d) {
         d["license"] = json::array{"https://x/a", "https://x/b"};
       },
       nullptr},
      {"license empty list", [](auto& d) { d["license"] = json::array{}; },
       "property 'license' is not a non-empty string"},
      {"not a JSON object", [](auto& d) { d.clear(); }, "missing property '@context'"},
      {"dist sha256 short", [](auto& d) { Dist(d, 2)["sha256"] = "abc"; },
       "distribution[2]: sha256 is not 64 hex"},
      {"dist sha256 not hex", [](auto& d) { Dist(d, 0)["sha256"] = std::string(64, 'g'); },
       "distribution[0]: sha256 is not 64 hex"},
      {"dist no checksum", [](auto& d) { Dist(d, 0).erase("sha256"); },
       "distribution[0]: missing checksum ('sha256' or 'md5')"},
      {"dist md5 instead",
       [](auto& d) {
         Dist(d, 0).erase("sha256");
         Dist(d, 0)["md5"] = std::string(32, 'f');
       },
       nullptr},
      {"dist md5 bad",
       [](auto& d) {
         Dist(d, 0).erase("sha256");
         Dist(d, 0)["md5"] = "123";
       },
       "distribution[0]: md5 is not 32 hex"},
      {"dist no contentUrl", [](auto& d) { Dist(d, 1).erase("contentUrl"); },
       "distribution[1]: missing property 'contentUrl'"},
      {"dist no name", [](auto& d) { Dist(d, 1).erase("name"); },
       "distribution[1]: missing property 'name'"},
      {"dist no @id", [](auto& d) { Dist(d, 1).erase("@id"); }, "distribution[1]: missing '@id'"},
      {"dist duplicate @id", [](auto& d) { Dist(d, 2)["@id"] = Dist(d, 0)["@id"]; },
       "distribution[2]: duplicate @id 'counts/2025-01.csv'"},
      {"dist wrong type", [](auto& d) { Dist(d, 0)["@type"] = "sc:DataDownload"; },
       "distribution[0]: @type is not cr:FileObject or cr:FileSet"},
      {"dist not object", [](auto& d) { d["distribution"].as_array()[1] = "x"; },
       "distribution[1]: not an object"},
      {"dist no encodingFormat", [](auto& d) { Dist(d, 0).erase("encodingFormat"); },
       "distribution[0]: missing property 'encodingFormat'"},
      {"dist contentSize bad", [](auto& d) { Dist(d, 0)["contentSize"] = "lots"; },
       "distribution[0]: contentSize is not a size"},
      {"dist contentSize MB", [](auto& d) { Dist(d, 0)["contentSize"] = "1.5 MB"; }, nullptr},
      {"dist containedIn ok",
       [](auto& d) {
         Dist(d, 1)["containedIn"] = json::object{{"@id", "README.txt"}};
       },
       nullptr},
      {"dist containedIn dangling",
       [](auto& d) {
         Dist(d, 1)["containedIn"] = json::object{{"@id", "nope.zip"}};
       },
       "distribution[1]: containedIn does not reference a distribution @id"},
      {"recordSet resolves",
       [](auto& d) {
         d["recordSet"] = json::parse(R"([{
           "@type": "cr:RecordSet", "@id": "counts", "name": "counts",
           "key": {"@id": "counts/id"},
           "field": [
             {"@type": "cr:Field", "@id": "counts/id", "dataType": "sc:Text",
              "source": {"fileObject": {"@id": "counts/2025-01.csv"},
                         "extract": {"column": "id"}}},
             {"@type": "cr:Field", "@id": "counts/readme", "dataType": "sc:Text",
              "references": {"@id": "counts/id"},
              "source": {"fileObject": {"@id": "README.txt"}}}
           ],
           "data": [{"counts/id": {"@id": "not-a-reference-in-json-data"}}]
         }])");
       },
       nullptr},
      {"recordSet dangling",
       [](auto& d) {
         d["recordSet"] = json::parse(R"([{
           "@type": "cr:RecordSet", "@id": "counts",
           "field": [{"@type": "cr:Field", "@id": "counts/id",
                      "source": {"fileObject": {"@id": "missing.csv"}}}]
         }])");
       },
       "recordSet[0].field[0].source.fileObject: reference 'missing.csv' does not resolve"},
      {"recordSet duplicate id",
       [](auto& d) {
         d["recordSet"] = json::parse(R"([{"@type": "cr:RecordSet", "@id": "README.txt"}])");
       },
       "recordSet[0]: duplicate @id 'README.txt'"},
  };
  RunMutations(cases, SampleCroissant, ValidateCroissant);
}

TEST(CroissantValidator, ReportsFileSetViolations) {
  std::vector<Mutation> cases = {
      {"no includes", [](auto& d) { Dist(d, 0).erase("includes"); },
       "distribution[0]: missing property 'includes' (a glob)"},
      {"empty includes", [](auto& d) { Dist(d, 0)["includes"] = ""; },
       "distribution[0]: missing property 'includes' (a glob)"},
      {"includes list",
       [](auto& d) {
         Dist(d, 0)["includes"] = json::array{"*.csv", "*.tsv"};
       },
       nullptr},
      {"no encodingFormat", [](auto& d) { Dist(d, 1).erase("encodingFormat"); },
       "distribution[1]: missing property 'encodingFormat'"},
      {"FileSet needs no checksum or URL", [](auto&) {}, nullptr},
  };
  RunMutations(cases, SampleFileSetCroissant, ValidateCroissant);
}

TEST(CroissantValidator, ListsEveryViolation) {
  json::object doc = SampleCroissant();
  doc.erase("license");
  Dist(doc, 2)["sha256"] = "xyz";
  doc["@context"].as_object().erase("cr");
  Status st = ValidateCroissant(doc);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("missing property 'license'"));
  EXPECT_THAT(st.message(), HasSubstr("distribution[2]: sha256 is not 64 hex"));
  EXPECT_THAT(st.message(), HasSubstr("@context: missing mapping 'cr'"));

  EXPECT_EQ(ValidateCroissant(json::value("text")).message(), "document is not a JSON object");
  EXPECT_EQ(ValidateCroissant(json::array{}).code(), StatusCode::kInvalidArgument);
}

TEST(CroissantValidator, DatasetWithoutLicenseIsFlagged) {
  DatasetMeta ds = SampleDataset();
  ds.license_spdx.clear();
  json::object doc = CroissantDocument(ds, SampleVersion(), SampleFiles(), kBase, true);
  EXPECT_FALSE(doc.contains("license"));
  EXPECT_THAT(ValidateCroissant(doc).message(), HasSubstr("missing property 'license'"));
}

// ---------------------------------------------------------------------------------------------
// DCAT.

TEST(Dcat, CatalogListsDatasetsWithTheirDistributions) {
  json::object cat = SampleCatalog();
  EXPECT_TRUE(ValidateDcatCatalog(cat).ok()) << ValidateDcatCatalog(cat).message();
  json::object& ctx = cat["@context"].as_object();
  EXPECT_EQ(ctx["dcat"], "http://www.w3.org/ns/dcat#");
  EXPECT_EQ(ctx["dct"], "http://purl.org/dc/terms/");
  EXPECT_EQ(ctx["foaf"], "http://xmlns.com/foaf/0.1/");
  EXPECT_EQ(ctx["spdx"], "http://spdx.org/rdf/terms#");
  EXPECT_EQ(ctx["xsd"], "http://www.w3.org/2001/XMLSchema#");
  EXPECT_EQ(cat["@type"], "dcat:Catalog");
  EXPECT_EQ(cat["dct:title"], "openlab datasets");
  ASSERT_EQ(cat["dcat:dataset"].as_array().size(), 3u);

  json::object& d = DcatDataset(cat, 0);
  EXPECT_EQ(d["@id"], "https://openlab.example.org/api/v1/datasets/ds_01JABCDEF");
  EXPECT_EQ(d["@type"], "dcat:Dataset");
  EXPECT_EQ(d["dct:identifier"], "ds_01JABCDEF");
  EXPECT_EQ(d["dct:title"], "Gwangju traffic counts 2025");
  EXPECT_EQ(d["dct:license"], (json::object{{"@id", "https://spdx.org/licenses/CC-BY-4.0.html"}}));
  EXPECT_EQ(d["dcat:keyword"], (json::array{"mobility", "traffic"}));
  EXPECT_EQ(d["dct:publisher"].at("@type"), "foaf:Organization");
  EXPECT_EQ(d["dct:publisher"].at("foaf:name"), "GIST AI Lab");
  EXPECT_EQ(d["dct:issued"],
            (json::object{{"@value", "2026-01-01T00:00:00Z"}, {"@type", "xsd:dateTime"}}));
  EXPECT_EQ(d["dct:modified"],
            (json::object{{"@value", "2026-01-03T00:00:00Z"}, {"@type", "xsd:dateTime"}}));
  EXPECT_EQ(d["dcat:version"], J(Hex64('a')));
  const json::array& rights = d["dct:accessRights"].as_array();
  EXPECT_EQ(rights[0].at("@id"),
            "http://publications.europa.eu/resource/authority/access-right/PUBLIC");
  EXPECT_EQ(rights[1].at("rdfs:label"), "open");

  json::object& dist = DcatDist(cat, 0);
  std::string manifest = "https://openlab.example.org/api/v1/datasets/ds_01JABCDEF/versions/" +
                         Hex64('a') + "/manifest";
  EXPECT_EQ(dist["@type"], "dcat:Distribution");
  EXPECT_EQ(dist["dcat:downloadURL"], (json::object{{"@id", manifest}}));
  EXPECT_EQ(dist["dcat:accessURL"], (json::object{{"@id", manifest}}));
  EXPECT_EQ(dist["dcat:byteSize"],
            (json::object{{"@value", "3000"}, {"@type", "xsd:nonNegativeInteger"}}));
  EXPECT_EQ(dist["spdx:checksum"].at("@type"), "spdx:Checksum");
  EXPECT_EQ(dist["spdx:checksum"].at("spdx:algorithm"),
            (json::object{{"@id", "spdx:checksumAlgorithm_sha256"}}));
  EXPECT_EQ(dist["spdx:checksum"].at("spdx:checksumValue").at("@value"), J(Hex64('a')));

  // A dataset without a version has no distribution and no version.
  EXPECT_FALSE(DcatDataset(cat, 2).contains("dcat:distribution"));
  EXPECT_FALSE(DcatDataset(cat, 2).contains("dcat:version"));
}

TEST(Dcat, MapsAccessLevelsToEuAccessRights) {
  struct Case {
    const char* level;
    const char* eu;
    bool download;
  } cases[] = {
      {"open", "PUBLIC", true},
      {"registered", "RESTRICTED", true},
      {"consortium", "RESTRICTED", true},
      {"project", "NON_PUBLIC", true},
      {"restricted", "NON_PUBLIC", false},
      {"hidden", "NON_PUBLIC", false},
  };
  for (const auto& c : cases) {
    json::object cat = DcatCatalog({{SampleDataset(c.level), SampleVersion()}}, kBase, "t");
    EXPECT_TRUE(ValidateDcatCatalog(cat).ok())
        << c.level << ": " << ValidateDcatCatalog(cat).message();
    json::object& d = DcatDataset(cat, 0);
    EXPECT_EQ(
        d["dct:accessRights"].as_array()[0].at("@id"),
        J(std::string("http://publications.europa.eu/resource/authority/access-right/") + c.eu))
        << c.level;
    json::object& dist = DcatDist(cat, 0);
    EXPECT_EQ(dist.contains("dcat:downloadURL"), c.download) << c.level;
    EXPECT_EQ(dist.contains("dcat:byteSize"), c.download) << c.level;
    EXPECT_TRUE(dist.contains("dcat:accessURL")) << c.level;
    if (!c.download) {
      EXPECT_EQ(dist["dcat:accessURL"].at("@id"), d["@id"]);
      EXPECT_THAT(json::serialize(cat), Not(HasSubstr("/manifest")));
    }
  }
}

TEST(Dcat, OddCharactersRoundTrip) {
  DatasetMeta ds = SampleDataset();
  ds.id = "ds_odd id/\"x\"";
  ds.title = "\"Quoted\" \xED\x95\x9C\xEA\xB8\x80 \\ title";
  ds.description = "line1\nline2\u0002";
  ds.tags = {"a\"b", "\xC3\xBC"};
  ds.license_spdx = "GPL-2.0+";
  json::object cat = DcatCatalog({{ds, SampleVersion()}}, kBase, "Cat \"alog\" \xC3\xBC");
  json::value back = json::parse(json::serialize(cat));
  EXPECT_EQ(back, json::value(cat));
  EXPECT_TRUE(ValidateDcatCatalog(back).ok()) << ValidateDcatCatalog(back).message();
  const json::value& d = back.at("dcat:dataset").as_array()[0];
  EXPECT_EQ(d.at("@id"), "https://openlab.example.org/api/v1/datasets/ds_odd%20id%2F%22x%22");
  EXPECT_EQ(d.at("dct:title"), J(ds.title));
  EXPECT_EQ(d.at("dct:license").at("@id"), "https://spdx.org/licenses/GPL-2.0+.html");
}

TEST(Dcat, RoundTripsThroughSerialization) {
  json::object cat = SampleCatalog();
  json::value back = json::parse(json::serialize(cat));
  EXPECT_EQ(back, json::value(cat));
  EXPECT_TRUE(ValidateDcatCatalog(back).ok()) << ValidateDcatCatalog(back).message();
  json::object empty = DcatCatalog({}, kBase, "empty");
  EXPECT_TRUE(ValidateDcatCatalog(empty).ok()) << ValidateDcatCatalog(empty).message();
}

TEST(DcatValidator, ReportsEachViolation) {
  std::vector<Mutation> cases = {
      {"no context", [](auto& c) { c.erase("@context"); }, "missing property '@context'"},
      {"no dcat prefix", [](auto& c) { c["@context"].as_object().erase("dcat"); },
       "@context: missing prefix 'dcat'"},
      {"no dct prefix", [](auto& c) { c["@context"].as_object().erase("dct"); },
       "@context: missing prefix 'dct'"},
      {"no foaf prefix", [](auto& c) { c["@context"].as_object().erase("foaf"); },
       "@context: missing prefix 'foaf'"},
      {"no spdx prefix", [](auto& c) { c["@context"].as_object().erase("spdx"); },
       "@context: missing prefix 'spdx'"},
      {"no xsd prefix", [](auto& c) { c["@context"].as_object().erase("xsd"); },
       "@context: missing prefix 'xsd'"},
      {"wrong dcat prefix",
       [](auto& c) { c["@context"].as_object()["dcat"] = "http://www.w3.org/ns/dcat"; },
       "@context: prefix 'dcat' is not 'http://www.w3.org/ns/dcat#'"},
      {"catalog type", [](auto& c) { c["@type"] = "dcat:Dataset"; }, "@type is not dcat:Catalog"},
      {"catalog title", [](auto& c) { c.erase("dct:title"); }, "missing property 'dct:title'"},
      {"catalog title empty", [](auto& c) { c["dct:title"] = ""; }, "missing property 'dct:title'"},
      {"catalog datasets", [](auto& c) { c.erase("dcat:dataset"); },
       "missing property 'dcat:dataset'"},
      {"datasets not list", [](auto& c) { c["dcat:dataset"] = json::object{}; },
       "dcat:dataset is not a list"},
      {"dataset not object", [](auto& c) { c["dcat:dataset"].as_array()[1] = 7; },
       "dataset[1]: not an object"},
      {"dataset type", [](auto& c) { DcatDataset(c, 0)["@type"] = "dcat:Catalog"; },
       "dataset[0]: @type is not dcat:Dataset"},
      {"dataset @id", [](auto& c) { DcatDataset(c, 0).erase("@id"); }, "dataset[0]: missing '@id'"},
      {"dataset title", [](auto& c) { DcatDataset(c, 0).erase("dct:title"); },
       "dataset[0]: missing property 'dct:title'"},
      {"dataset description", [](auto& c) { DcatDataset(c, 1).erase("dct:description"); },
       "dataset[1]: missing property 'dct:description'"},
      {"dataset identifier", [](auto& c) { DcatDataset(c, 2).erase("dct:identifier"); },
       "dataset[2]: missing property 'dct:identifier'"},
      {"dataset title as language literal",
       [](auto& c) {
         DcatDataset(c, 0)["dct:title"] = json::object{{"@value", "T"}, {"@language", "en"}};
       },
       nullptr},
      {"dataset license literal", [](auto& c) { DcatDataset(c, 0)["dct:license"] = "CC-BY-4.0"; },
       "dataset[0]: dct:license is not an IRI"},
      {"dataset keyword", [](auto& c) { DcatDataset(c, 0)["dcat:keyword"] = json::array{1}; },
       "dataset[0]: dcat:keyword is not a list of strings"},
      {"dataset issued untyped",
       [](auto& c) { DcatDataset(c, 0)["dct:issued"] = "2026-01-01T00:00:00Z"; },
       "dataset[0]: dct:issued is not an xsd:dateTime"},
      {"dataset modified garbage",
       [](auto& c) {
         DcatDataset(c, 0)["dct:modified"] =
             json::object{{"@value", "yesterday"}, {"@type", "xsd:dateTime"}};
       },
       "dataset[0]: dct:modified is not an xsd:dateTime"},
      {"dataset publisher", [](auto& c) { DcatDataset(c, 0)["dct:publisher"] = "GIST"; },
       "dataset[0]: dct:publisher is not a foaf:Agent with a foaf:name"},
      {"dataset access rights", [](auto& c) { DcatDataset(c, 0).erase("dct:accessRights"); },
       "dataset[0]: missing property 'dct:accessRights'"},
      {"access rights plain literal",
       [](auto& c) { DcatDataset(c, 0)["dct:accessRights"] = "open"; }, nullptr},
      {"access rights unknown level",
       [](auto& c) { DcatDataset(c, 0)["dct:accessRights"] = "secret"; },
       "dataset[0]: unknown access level 'secret'"},
      {"access rights without level",
       [](auto& c) {
         DcatDataset(c, 0)["dct:accessRights"] = json::object{
             {"@id", "http://publications.europa.eu/resource/authority/access-right/PUBLIC"}};
       },
       "dataset[0]: dct:accessRights carries no access level literal"},
      {"access rights mismatch",
       [](auto& c) {
         DcatDataset(c, 0)["dct:accessRights"].as_array()[0].as_object()["@id"] =
             "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC";
       },
       "does not match access level 'open'"},
      {"distribution type", [](auto& c) { DcatDist(c, 0)["@type"] = "dcat:DataService"; },
       "dataset[0].distribution[0]: @type is not dcat:Distribution"},
      {"distribution accessURL", [](auto& c) { DcatDist(c, 0).erase("dcat:accessURL"); },
       "dataset[0].distribution[0]: missing property 'dcat:accessURL'"},
      {"restricted accessURL", [](auto& c) { DcatDist(c, 1).erase("dcat:accessURL"); },
       "dataset[1].distribution[0]: missing property 'dcat:accessURL'"},
      {"downloadURL literal", [](auto& c) { DcatDist(c, 0)["dcat:downloadURL"] = "https://x"; },
       "dataset[0].distribution[0]: dcat:downloadURL is not an IRI"},
      {"restricted with downloadURL",
       [](auto& c) {
         DcatDist(c, 1)["dcat:downloadURL"] = json::object{{"@id", "https://leak.example/x"}};
       },
       "dataset[1].distribution[0]: dcat:downloadURL present for a restricted or hidden dataset"},
      {"byteSize negative",
       [](auto& c) {
         DcatDist(c, 0)["dcat:byteSize"] =
             json::object{{"@value", -5}, {"@type", "xsd:nonNegativeInteger"}};
       },
       "dataset[0].distribution[0]: dcat:byteSize is not a non-negative integer"},
      {"byteSize not digits",
       [](auto& c) {
         DcatDist(c, 0)["dcat:byteSize"] =
             json::object{{"@value", "12a"}, {"@type", "xsd:nonNegativeInteger"}};
       },
       "dcat:byteSize is not a non-negative integer"},
      {"byteSize decimal type",
       [](auto& c) {
         DcatDist(c, 0)["dcat:byteSize"] = json::object{{"@value", "12"}, {"@type", "xsd:decimal"}};
       },
       "dcat:byteSize is not a non-negative integer"},
      {"byteSize bare number", [](auto& c) { DcatDist(c, 0)["dcat:byteSize"] = 12; }, nullptr},
      {"byteSize bare negative", [](auto& c) { DcatDist(c, 0)["dcat:byteSize"] = -1; },
       "dcat:byteSize is not a non-negative integer"},
      {"checksum value",
       [](auto& c) { DcatDist(c, 0)["spdx:checksum"].as_object()["spdx:checksumValue"] = "abc"; },
       "dataset[0].distribution[0]: spdx:checksumValue is not 64 hex"},
      {"checksum algorithm",
       [](auto& c) { DcatDist(c, 0)["spdx:checksum"].as_object().erase("spdx:algorithm"); },
       "dataset[0].distribution[0]: spdx:checksum has no spdx:algorithm"},
      {"checksum type", [](auto& c) { DcatDist(c, 0)["spdx:checksum"] = Hex64('a'); },
       "dataset[0].distribution[0]: spdx:checksum is not an spdx:Checksum"},
  };
  RunMutations(cases, SampleCatalog, ValidateDcatCatalog);
  EXPECT_EQ(ValidateDcatCatalog(json::value(nullptr)).message(), "document is not a JSON object");
}

}  // namespace
}  // namespace openlab::data
