#include "http/bootstrap.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth/authn.h"
#include "common/ids.h"
#include "tenants/audit.h"
#include "tenants/tenants.h"

namespace openlab::http {

StatusOr<std::string> BootstrapIfEmpty(store::Database& db, const std::string& state_dir,
                                       int64_t now) {
  std::string path = state_dir + "/bootstrap-token";
  bool wrote = false;
  Status s = db.Write([&](store::Tx& tx) -> Status {
    wrote = false;
    ASSIGN_OR_RETURN(int64_t users, tenants::CountUsers(tx));
    if (users > 0) return Status::Ok();
    tenants::NewUser op;
    op.username = "operator";
    op.display_name = "Centre operator";
    op.email = "operator@localhost";
    op.platform_roles = {"operator"};
    ASSIGN_OR_RETURN(tenants::User u, tenants::CreateUser(tx, op, now));
    ASSIGN_OR_RETURN(auth::NewToken t,
                     auth::CreateToken(tx, u.id, "bootstrap", {"*"}, std::nullopt, now));
    RETURN_IF_ERROR(tenants::AppendAudit(
        tx, tenants::AuditEntry{"", now, "system", "bootstrap", u.id, "startup", "ok",
                                "created the operator account and its token " + t.token.id}));
    // Written inside the transaction: if the file cannot be written, nothing is created.
    ::unlink(path.c_str());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Unavailable(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    std::string line = t.secret + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      ::unlink(path.c_str());
      return Unavailable(fmt::format("cannot write {}", path));
    }
    wrote = true;
    return Status::Ok();
  });
  if (!s.ok()) {
    if (wrote) ::unlink(path.c_str());
    return s;
  }
  return wrote ? path : std::string();
}

}  // namespace openlab::http
