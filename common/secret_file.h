#pragma once

#include <string>

#include "common/status.h"

namespace botmodels {

// Reads a file that holds a secret (keys file, worker secret, CURVE secret
// key). Refuses one that others may read or write, or its group write: a secret others
// can read is no secret. Errors name the file and its mode, never the bytes.
Result<std::string> ReadSecretFile(const std::string& path);

// Creates `path` with mode 0600 and writes `bytes`; refuses to replace an
// existing file.
Status WriteSecretFile(const std::string& path, const std::string& bytes);

}  // namespace botmodels
