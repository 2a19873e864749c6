#pragma once

#include <set>
#include <string>

#include "common/status.h"

namespace botmodels {

// CURVE keys as libzmq takes them: 40-character Z85 text (docs/security.md).
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

// A fresh keypair.
CurveKeyPair NewCurveKeyPair();

// Writes `<prefix>.key` (the secret key, mode 0600) and `<prefix>.pub` (the
// public key); refuses to replace either.
Status WriteCurveKeyPair(const std::string& prefix, const CurveKeyPair& pair);

// Reads a secret key file (mode 0600, as keygen writes it) and derives its
// public key.
Result<CurveKeyPair> LoadCurveSecretKey(const std::string& path);

// Reads a public key file: one Z85 key.
Result<std::string> LoadCurvePublicKey(const std::string& path);

// Reads an allowlist: one Z85 public key per line; blank lines and lines
// starting with '#' are skipped. Errors name the file and line.
Result<std::set<std::string>> LoadCurveAllowlist(const std::string& path);

// The Z85 text of a 32-byte binary key (as a ZAP request carries it), or ""
// when `binary` is not 32 bytes.
std::string CurveKeyText(const std::string& binary);

}  // namespace botmodels
