#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace botmodels {

// Reads typed fields from one TOML table. Every error names the file, the
// line and the field ("models/mlp/model.toml:7: field 'queue_size': ...").
// Readers leave *out untouched when the key is absent and not required.
class TomlReader {
 public:
  // `prefix` is prepended to field names in errors (e.g. "broker.").
  TomlReader(std::string file, const toml::table& table, std::string prefix = "");

  Status String(std::string_view key, std::string* out, bool required = false) const;
  Status Int(std::string_view key, int64_t* out, int64_t min, int64_t max,
             bool required = false) const;
  Status Bool(std::string_view key, bool* out) const;
  // A number (integer or float) in [min, max].
  Status Number(std::string_view key, double* out, double min, double max) const;
  Status StringList(std::string_view key, std::vector<std::string>* out) const;
  Status IntList(std::string_view key, std::vector<int64_t>* out, bool required = false) const;
  // Numbers (integers or floats), each from min to max, at least one.
  Status NumberList(std::string_view key, std::vector<double>* out, double min, double max) const;
  // The sub-tables of an array of tables ([[key]]), with a reader each.
  Result<std::vector<TomlReader>> TableArray(std::string_view key) const;
  // A sub-table ([key]); an empty table when absent.
  Result<TomlReader> Table(std::string_view key) const;

  bool Has(std::string_view key) const { return table_->get(key) != nullptr; }
  // The table's keys, in file order.
  std::vector<std::string> Keys() const;

  // Fails on the first key not in `known`: a misspelt option must not be ignored.
  Status RejectUnknown(const std::vector<std::string_view>& known) const;

  // An error at `key`'s line (or the table's when the key is absent).
  Status Error(std::string_view key, const std::string& message) const;

  // A required `key` that is absent, at the table's line.
  Status Missing(std::string_view key) const;

  const std::string& file() const { return file_; }

 private:
  static const toml::table& Empty();
  std::string Where(const toml::source_region& source, std::string_view key) const;

  std::string file_;
  const toml::table* table_;
  std::string prefix_;
};

// `path` relative to `base` (a config file's folder); absolute and empty paths as they are.
std::string ResolvePath(const std::string& base, const std::string& path);

// Parses a TOML file; a syntax error names the file and line.
Result<toml::table> ParseTomlFile(const std::string& path);

// Parses a TOML file that holds secrets (a keys file): refused when others
// may read it (ReadSecretFile); a syntax error names the file and line only,
// as the parser's description may quote a secret.
Result<toml::table> ParseSecretTomlFile(const std::string& path);

}  // namespace botmodels
