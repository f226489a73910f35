#pragma once

#include <boost/beast/http.hpp>
#include <functional>

namespace modelgate {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
// Called exactly once per request, on the io thread.
using HttpRespond = std::function<void(HttpResponse)>;
// Withdraws a request whose client went away (may be empty; io thread).
using HttpCancel = std::function<void()>;

}  // namespace modelgate
