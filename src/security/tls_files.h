// Start-up check of the TLS files named by --tls-cert, --tls-key and
// --tls-client-ca, so a wrong path or a mismatched pair is a clear error
// before any listener opens (gRPC's own loader would only log it on the
// first handshake). Reads each file once with OpenSSL's PEM readers.
#pragma once

#include <string>

#include "modelgate/status.h"

namespace modelgate {

// Ok when all three are empty (no TLS). Otherwise the certificate and key
// must both be given, readable PEM, and belong together; the client CA, when
// given, must hold at least one PEM certificate and needs the other two.
// Errors name the flag and the file.
Status CheckTlsFiles(const std::string& cert, const std::string& key, const std::string& client_ca);

}  // namespace modelgate
