#include "security/token_file_reloader.h"

#include <signal.h>

#include "spdlog/spdlog.h"

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
      spdlog::info("SIGHUP: no auth token file to reload");
    } else if (Status s = auth_->Reload(); s.ok()) {
      spdlog::info("SIGHUP: auth tokens reloaded tokens={} file={}", auth_->size(), auth_->path());
    } else {
      spdlog::error("SIGHUP: auth tokens kept (tokens={}): {}", auth_->size(), s.message());
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
      spdlog::error("auth token file changed: tokens kept (tokens={}): {}", auth_->size(),
                    changed.status().message());
    } else if (*changed) {
      spdlog::info("auth token file changed: reloaded tokens={} file={}", auth_->size(),
                   auth_->path());
    }
    ScheduleCheck();
  });
}

}  // namespace modelgate
