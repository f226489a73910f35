// TokenFileReloader: keeps a TokenAuthenticator in step with its file. It
// re-reads the file on SIGHUP and when the file changes (checked every
// kCheckInterval, so an updated Kubernetes Secret needs no signal). A file
// that fails to parse keeps the tokens in force; the error is logged once per
// version of the file.
//
// Also owns the daemon's SIGHUP handling when there are no tokens, so SIGHUP
// (`systemctl reload`) never terminates the daemon. Runs on the io thread;
// construct before io.run() and destroy after it returns.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "security/token_authenticator.h"

namespace modelgate {

class TokenFileReloader {
 public:
  static constexpr std::chrono::seconds kCheckInterval{5};

  // `auth` may be null (no --auth-tokens): SIGHUP is then only logged.
  TokenFileReloader(boost::asio::io_context& io, TokenAuthenticator* auth);

 private:
  void AwaitSignal();
  void ScheduleCheck();

  TokenAuthenticator* auth_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
};

}  // namespace modelgate
