// Machine-readable metadata documents for datasets: MLCommons Croissant 1.0 (one version of one
// dataset, for ML loaders and dataset search) and W3C DCAT v3 (a catalogue of datasets, for data
// portals and harvesters), both as JSON-LD, plus structural validators for each.
//
// Pure functions over plain structs: no database, no clock, no I/O. The caller (the HTTP edge or
// the CLI) loads the structs and decides what the reader may see; these functions only render what
// they are given, with one safety rule of their own: data of a non-downloadable access level
// (restricted, hidden) never gets a download URL, whatever the caller asks.
//
// References:
//   Croissant 1.0: https://docs.mlcommons.org/croissant/docs/croissant-spec.html
//                  (http://mlcommons.org/croissant/1.0)
//   DCAT v3:       https://www.w3.org/TR/vocab-dcat-3/
//   EU access rights: http://publications.europa.eu/resource/authority/access-right
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace openlab::data {

// One file of a dataset version.
struct MetaFile {
  std::string path;        // relative, '/'-separated, no "." or ".." segments (manifest rules)
  uint64_t size = 0;       // bytes
  std::string sha256_hex;  // 64 hex digits
};

// One immutable version of a dataset.
struct MetaVersion {
  std::string id;                 // the manifest hash, 64 hex
  std::vector<std::string> tags;  // human tags ("v1.2.0", "latest"); the first names the version
  int64_t created_at_ms = 0;
  uint64_t total_bytes = 0;
  uint64_t file_count = 0;
};

struct DatasetMeta {
  std::string id;                 // "ds_01J..."
  std::string name;               // short name, e.g. "gwangju-traffic-2025"
  std::string title;              // may be empty -> `name` is used
  std::string description;        // may be empty -> a placeholder sentence is used
  std::string license_spdx;       // e.g. "CC-BY-4.0"; empty -> no license property is emitted
  std::vector<std::string> tags;  // domain tags: mobility, energy, healthcare, ...
  std::string access_level;       // open | registered | consortium | project | restricted | hidden
  std::string owner_name;         // publisher: the owning organisation/project display name
  std::string owner_url;          // may be empty
  std::string datasheet_md;       // markdown datasheet (may be empty)
  int64_t created_at_ms = 0, updated_at_ms = 0;  // 0 = unknown, the date is then left out
  std::vector<std::string> contributors;         // credited usernames (may be empty)
};

// The `conformsTo` value every Croissant 1.0 document carries.
inline constexpr std::string_view kCroissantConformsTo = "http://mlcommons.org/croissant/1.0";

// The JSON-LD @context emitted in Croissant documents: the term mappings of the Croissant 1.0
// reference context (spec Appendix 1 / the mlcommons 1.0 example datasets).
boost::json::object CroissantContext();

// True for the access levels whose bytes may be downloaded by someone (open, registered,
// consortium, project); false for restricted, hidden and anything unknown (fail closed).
bool IsDownloadableAccessLevel(std::string_view access_level);

// Percent-encodes each '/'-separated segment of `path` (RFC 3986: every byte other than
// ALPHA / DIGIT / "-" / "." / "_" / "~" becomes %XX, so spaces, quotes, '?', '#', '%' and UTF-8
// are all encoded); the '/' separators are kept.
std::string EncodePath(std::string_view path);

// {base_url}/api/v1/datasets/{id}/versions/{version_id}/file?path={path}, every piece encoded.
std::string FileDownloadUrl(std::string_view base_url, std::string_view dataset_id,
                            std::string_view version_id, std::string_view path);

// A MIME type guessed from the file extension (case-insensitive): csv, json, jsonl, parquet,
// png, jpg/jpeg, txt, zip; otherwise "application/octet-stream".
std::string GuessEncodingFormat(std::string_view path);

// The Croissant 1.0 document of version `v` of `ds`. `base_url` is the public URL of the server
// ("https://openlab.example.org", no trailing slash).
//
// With `include_files` and a downloadable access level, `distribution` lists one cr:FileObject per
// entry of `files` (contentUrl = FileDownloadUrl, contentSize "<n> B", encodingFormat, sha256).
// Otherwise (too many files, or restricted/hidden data: `include_files` is then ignored) it lists
// cr:FileSets that describe the content by glob, one per kind of file in `files` (a single "**"
// set when `files` is empty), with no URL at all. No recordSet is emitted.
boost::json::object CroissantDocument(const DatasetMeta& ds, const MetaVersion& v,
                                      const std::vector<MetaFile>& files,
                                      const std::string& base_url, bool include_files);

// One dataset of a catalogue, with its latest version if it has one.
struct CatalogEntry {
  DatasetMeta ds;
  std::optional<MetaVersion> latest;
};

// A DCAT v3 catalogue (dcat:Catalog) listing `entries` in order. Only what the caller passes is
// listed: the caller filters what the reader may see. Downloadable datasets with a version get a
// dcat:Distribution whose downloadURL is the version's manifest
// ({base_url}/api/v1/datasets/{id}/versions/{v}/manifest, JSON lines) with an SPDX sha256 checksum
// (the version id is the manifest's SHA-256) and byteSize (the version's total content bytes);
// restricted/hidden ones get a distribution whose accessURL is the dataset page, and nothing else
// to fetch. A dataset without a version gets no distribution.
boost::json::object DcatCatalog(const std::vector<CatalogEntry>& entries,
                                const std::string& base_url, const std::string& catalog_title);

// Structural validators (for tests and a future `openlab data lint`). Each returns Ok, or
// InvalidArgument whose message lists every violation found, separated by "; ", e.g.
// "missing property 'license'; distribution[2]: sha256 is not 64 hex".
Status ValidateCroissant(const boost::json::value& doc);
Status ValidateDcatCatalog(const boost::json::value& doc);

}  // namespace openlab::data
