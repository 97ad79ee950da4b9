// The client library's pieces shared by the data transfers (client/push.h, client/pull.h) and by
// a front end's other data calls: a JSON call over a DataConnection, a dataset named by name or
// id, the fields of the server's answers, and the checks both directions make on paths.
//
// Errors: a failed request or an answer that is not what was asked is Internal, with a message
// for a person (the server's problem detail where it gave one); transport failures stay
// Unavailable, as DataConnection returns them.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "client/client.h"
#include "client/data_connection.h"
#include "common/status.h"

namespace openlab::client {

// Receives a line for a person about a transfer under way ("resuming upload ...", "warning:
// skipping ..."), on the caller's thread. An empty Notify keeps the transfer silent.
using Notify = std::function<void(const std::string& line)>;

// Calls the API and parses a 2xx JSON answer. A non-2xx answer is an error that starts with
// `what` ("creating the dataset: ...") where `what` is given.
StatusOr<boost::json::value> CallJson(DataConnection& c, const std::string& method,
                                      const std::string& path, const std::string& body = "",
                                      const std::string& what = "");

// "name" or "ds_..." -> the dataset id. A name is looked up among the datasets the caller sees
// and must match exactly one (NotFound, or InvalidArgument listing the ids).
StatusOr<std::string> ResolveDataset(DataConnection& c, const std::string& ref);

// Splits DATASET[@VERSION]; the version is "latest" when none is given.
std::pair<std::string, std::string> SplitRef(const std::string& ref);

// A dataset path that cannot leave the directory it is written under: relative, '/'-separated,
// no empty, "." or ".." segment, no NUL or backslash, at most 4096 bytes.
bool SafeRelativePath(const std::string& p);

// A value of an answer as text: "-" for none or null, a string as it is, an array's items
// joined with ",", anything else as JSON.
std::string Text(const boost::json::value* v);
// Text of the member `key` of an object ("-" if `o` is no object or lacks it).
std::string Field(const boost::json::value& o, const char* key);
// The integer member `key` of an object; 0 if there is none.
int64_t IntField(const boost::json::value& o, const char* key);

// "what: <the server's error line>" (just the line when `what` is empty), as Internal.
Status ServerError(const std::string& what, const HttpResult& r);
// "what: <strerror(errno)>", as Internal.
Status SysError(const std::string& what);

// Seconds on the steady clock since `start`.
double SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace openlab::client
