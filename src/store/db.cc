#include "store/db.h"

#include <fmt/format.h>

namespace openlab::store {

int64_t Row::Int(size_t i) const {
  const Value& v = cols_[i];
  if (auto* p = std::get_if<int64_t>(&v)) return *p;
  if (auto* p = std::get_if<double>(&v)) return static_cast<int64_t>(*p);
  if (auto* p = std::get_if<std::string>(&v)) return std::strtoll(p->c_str(), nullptr, 10);
  return 0;
}

double Row::Double(size_t i) const {
  const Value& v = cols_[i];
  if (auto* p = std::get_if<double>(&v)) return *p;
  if (auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (auto* p = std::get_if<std::string>(&v)) return std::strtod(p->c_str(), nullptr);
  return 0;
}

std::string Row::Str(size_t i) const {
  const Value& v = cols_[i];
  if (auto* p = std::get_if<std::string>(&v)) return *p;
  if (auto* p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto* p = std::get_if<double>(&v)) return fmt::format("{}", *p);
  return "";
}

std::string PaddedInList(std::vector<Value>* values, size_t first) {
  if (values->empty()) return "NULL";
  size_t n = 1;
  while (n < values->size()) n *= 2;
  values->resize(n, values->front());
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("{}${}", i == 0 ? "" : ", ", first + i);
  return out;
}

IdPaging PageById(const std::string& cursor, bool newest_first) {
  if (!newest_first) return {"id > $1", "ORDER BY id"};
  return {cursor.empty() ? "id > $1" : "id < $1", "ORDER BY id DESC"};
}

std::string ToSqlitePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_string = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') in_string = !in_string;
    if (!in_string && c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

StatusOr<std::unique_ptr<Database>> OpenDatabase(const std::string& url) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgres(url);
  }
  if (url.rfind("sqlite:", 0) == 0) return OpenSqlite(url.substr(7));
  if (url.find("://") != std::string::npos) {
    return InvalidArgument(
        fmt::format("unsupported database URL '{}': use sqlite:PATH or postgresql://...", url));
  }
  return OpenSqlite(url);
}

StatusOr<int64_t> BoundedCount(Tx& tx, const std::string& sql, const std::vector<Value>& params,
                               int64_t bound, bool* more) {
  std::vector<Value> all = params;
  all.emplace_back(bound + 1);
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT COUNT(*) FROM ({} LIMIT ${}) bounded", sql, all.size()), all));
  int64_t n = rows.empty() ? 0 : rows[0].Int(0);
  *more = n > bound;
  return std::min(n, bound);
}

}  // namespace openlab::store
