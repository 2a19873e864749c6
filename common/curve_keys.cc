#include "common/curve_keys.h"

#include <zmq.h>

#include <fstream>

#include "common/secret_file.h"

namespace botmodels {
namespace {

constexpr size_t kKeyText = 40;    // Z85 characters of a 32-byte key
constexpr size_t kKeyBinary = 32;  // bytes of a CURVE key

std::string Trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

bool IsKeyText(const std::string& key) {
  uint8_t binary[kKeyBinary];
  return key.size() == kKeyText && zmq_z85_decode(binary, key.c_str()) != nullptr;
}

Status BadKey(const std::string& where) {
  return {ErrorCode::kInvalidRequest, where + ": expected a CURVE key of " +
                                          std::to_string(kKeyText) +
                                          " Z85 characters (botmodels keygen)"};
}

}  // namespace

CurveKeyPair NewCurveKeyPair() {
  char public_key[kKeyText + 1], secret_key[kKeyText + 1];
  zmq_curve_keypair(public_key, secret_key);
  return {public_key, secret_key};
}

Status WriteCurveKeyPair(const std::string& prefix, const CurveKeyPair& pair) {
  if (Status s = WriteSecretFile(prefix + ".key", pair.secret_key + "\n"); !s.ok()) return s;
  std::ofstream pub(prefix + ".pub", std::ios::trunc);
  pub << pair.public_key << "\n";
  if (!pub.flush()) return {ErrorCode::kInternal, "cannot write " + prefix + ".pub"};
  return {};
}

Result<CurveKeyPair> LoadCurveSecretKey(const std::string& path) {
  auto text = ReadSecretFile(path);
  if (!text.ok()) return text.status();
  CurveKeyPair pair;
  pair.secret_key = Trimmed(std::move(*text));
  char public_key[kKeyText + 1];
  if (!IsKeyText(pair.secret_key) || zmq_curve_public(public_key, pair.secret_key.c_str()) != 0) {
    return BadKey(path);
  }
  pair.public_key = public_key;
  return pair;
}

Result<std::string> LoadCurvePublicKey(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kInvalidRequest, "cannot read " + path);
  std::string key;
  std::getline(in, key);
  key = Trimmed(key);
  if (!IsKeyText(key)) return BadKey(path);
  return key;
}

Result<std::set<std::string>> LoadCurveAllowlist(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kInvalidRequest, "cannot read " + path);
  std::set<std::string> keys;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = Trimmed(line);
    if (line.empty() || line[0] == '#') continue;
    if (!IsKeyText(line)) return BadKey(path + ":" + std::to_string(number));
    keys.insert(line);
  }
  return keys;
}

std::string CurveKeyText(const std::string& binary) {
  if (binary.size() != kKeyBinary) return "";
  char text[kKeyText + 1];
  zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(binary.data()), kKeyBinary);
  return text;
}

}  // namespace botmodels
