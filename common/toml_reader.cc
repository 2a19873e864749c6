#include "common/toml_reader.h"

#include <filesystem>

#include "common/secret_file.h"

namespace botmodels {

TomlReader::TomlReader(std::string file, const toml::table& table, std::string prefix)
    : file_(std::move(file)), table_(&table), prefix_(std::move(prefix)) {}

const toml::table& TomlReader::Empty() {
  static const toml::table empty;
  return empty;
}

// "file:line: field 'prefix.key'" (the line only when the source has one).
std::string TomlReader::Where(const toml::source_region& source, std::string_view key) const {
  std::string where = file_;
  if (source.begin.line > 0) where.append(":").append(std::to_string(source.begin.line));
  return where.append(": field '").append(prefix_).append(key).append("'");
}

std::vector<std::string> TomlReader::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, node] : *table_) keys.emplace_back(key.str());
  return keys;
}

std::string ResolvePath(const std::string& base, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base) / path).lexically_normal().string();
}

Status TomlReader::Error(std::string_view key, const std::string& message) const {
  const toml::node* node = table_->get(key);
  return InvalidRequest(Where(node ? node->source() : table_->source(), key) + ": " + message);
}

Status TomlReader::Missing(std::string_view key) const {
  return InvalidRequest(Where(table_->source(), key) + " is missing");
}

Status TomlReader::String(std::string_view key, std::string* out, bool required) const {
  const toml::node* node = table_->get(key);
  if (!node) return required ? Missing(key) : Status();
  if (!node->is_string()) return Error(key, "expected a string");
  *out = node->as_string()->get();
  return {};
}

Status TomlReader::Int(std::string_view key, int64_t* out, int64_t min, int64_t max,
                       bool required) const {
  const toml::node* node = table_->get(key);
  if (!node) return required ? Missing(key) : Status();
  if (!node->is_integer()) return Error(key, "expected an integer");
  const int64_t value = node->as_integer()->get();
  if (value < min || value > max) {
    return Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  *out = value;
  return {};
}

Status TomlReader::Number(std::string_view key, double* out, double min, double max) const {
  const toml::node* node = table_->get(key);
  if (!node) return {};
  if (!node->is_number()) return Error(key, "expected a number");
  const double value = node->value<double>().value_or(0);
  if (!(value >= min && value <= max)) {
    return Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  *out = value;
  return {};
}

Status TomlReader::Bool(std::string_view key, bool* out) const {
  const toml::node* node = table_->get(key);
  if (!node) return {};
  if (!node->is_boolean()) return Error(key, "expected true or false");
  *out = node->as_boolean()->get();
  return {};
}

Status TomlReader::StringList(std::string_view key, std::vector<std::string>* out) const {
  const toml::node* node = table_->get(key);
  if (!node) return {};
  const toml::array* array = node->as_array();
  if (!array) return Error(key, "expected an array of strings");
  std::vector<std::string> values;
  for (const auto& item : *array) {
    if (!item.is_string()) return Error(key, "expected an array of strings");
    values.push_back(item.as_string()->get());
  }
  *out = std::move(values);
  return {};
}

Status TomlReader::IntList(std::string_view key, std::vector<int64_t>* out, bool required) const {
  const toml::node* node = table_->get(key);
  if (!node) return required ? Missing(key) : Status();
  const toml::array* array = node->as_array();
  if (!array) return Error(key, "expected an array of integers");
  std::vector<int64_t> values;
  for (const auto& item : *array) {
    if (!item.is_integer()) return Error(key, "expected an array of integers");
    values.push_back(item.as_integer()->get());
  }
  *out = std::move(values);
  return {};
}

Status TomlReader::NumberList(std::string_view key, std::vector<double>* out, double min,
                              double max) const {
  const toml::node* node = table_->get(key);
  if (!node) return {};
  const toml::array* array = node->as_array();
  const std::string expected = "expected an array of numbers between " + std::to_string(min) +
                               " and " + std::to_string(max) + ", at least one";
  if (!array || array->empty()) return Error(key, expected);
  std::vector<double> values;
  for (const auto& item : *array) {
    const auto value = item.value<double>();
    if (!value || *value < min || *value > max) return Error(key, expected);
    values.push_back(*value);
  }
  *out = std::move(values);
  return {};
}

Result<std::vector<TomlReader>> TomlReader::TableArray(std::string_view key) const {
  std::vector<TomlReader> readers;
  const toml::node* node = table_->get(key);
  if (!node) return readers;
  const toml::array* array = node->as_array();
  if (!array || !array->is_array_of_tables()) {
    return Error(key, std::string("expected an array of tables ([[").append(key).append("]])"));
  }
  for (size_t i = 0; i < array->size(); ++i) {
    readers.emplace_back(file_, *array->get(i)->as_table(),
                         prefix_ + std::string(key) + "[" + std::to_string(i) + "].");
  }
  return readers;
}

Result<TomlReader> TomlReader::Table(std::string_view key) const {
  const toml::node* node = table_->get(key);
  if (!node) return TomlReader(file_, Empty(), prefix_ + std::string(key) + ".");
  if (!node->is_table())
    return Error(key, std::string("expected a table ([").append(key).append("])"));
  return TomlReader(file_, *node->as_table(), prefix_ + std::string(key) + ".");
}

Status TomlReader::RejectUnknown(const std::vector<std::string_view>& known) const {
  for (const auto& [key, node] : *table_) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key.str();
    if (!found) return Error(key.str(), "unknown option");
  }
  return {};
}

Result<toml::table> ParseTomlFile(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidRequest(path + ":" + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()));
  } catch (const std::exception& e) {
    return InvalidRequest(path + ": " + e.what());
  }
}

Result<toml::table> ParseSecretTomlFile(const std::string& path) {
  auto text = ReadSecretFile(path);
  if (!text.ok()) return text.status();
  try {
    return toml::parse(*text, path);
  } catch (const toml::parse_error& e) {
    return InvalidRequest(path + ":" + std::to_string(e.source().begin.line) + ": not valid TOML");
  }
}

}  // namespace botmodels
