#include "models/pipelines/tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace botmodels {

Status AddSpecialTokens(const std::string& path, Tokenizer* tokenizer, std::vector<int64_t>* ids) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kModelLoadFailed, "tokenizer: cannot read " + path);
  const auto tokens = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!tokens.is_object()) {
    return Status(ErrorCode::kModelLoadFailed,
                  "tokenizer: " + path + " is not a JSON object of token: id");
  }
  for (const auto& [text, id] : tokens.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      return Status(ErrorCode::kModelLoadFailed,
                    "tokenizer: " + path + ": '" + text + "' has no id");
    }
    tokenizer->AddSpecial(text, id.get<int64_t>());
    if (ids) ids->push_back(id.get<int64_t>());
  }
  return {};
}

}  // namespace botmodels
