#include "security/token_file_reloader.h"

#include <signal.h>

#include "modelgate/log_event.h"

namespace modelgate {

TokenFileReloader::TokenFileReloader(boost::asio::io_context& io, TokenAuthenticator* auth)
    : auth_(auth), signals_(io, SIGHUP), timer_(io) {
  AwaitSignal();
  if (auth_) ScheduleCheck();
}

void TokenFileReloader::AwaitSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (!auth_) {
      LogInfo("SIGHUP: no auth token file to reload");
    } else if (Status s = auth_->Reload(); s.ok()) {
      LogInfo("SIGHUP: auth tokens reloaded", {{"tokens", auth_->size()}, {"file", auth_->path()}});
    } else {
      LogError("SIGHUP: auth tokens kept", {{"tokens", auth_->size()}, {"error", s.message()}});
    }
    AwaitSignal();
  });
}

void TokenFileReloader::ScheduleCheck() {
  timer_.expires_after(kCheckInterval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    auto changed = auth_->ReloadIfChanged();
    if (!changed.ok()) {
      LogError("auth token file changed: tokens kept",
               {{"tokens", auth_->size()}, {"error", changed.status().message()}});
    } else if (*changed) {
      LogInfo("auth token file changed: reloaded",
              {{"tokens", auth_->size()}, {"file", auth_->path()}});
    }
    ScheduleCheck();
  });
}

}  // namespace modelgate
