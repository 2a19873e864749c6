#include "gateway/anomaly_detector.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

namespace botmodels {
namespace {

using nlohmann::json;

// float(value) in Python: numbers, booleans, and strings that hold a number.
std::optional<double> AsNumber(const json& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.get_ref<const std::string&>();
  const size_t begin = text.find_first_not_of(" \t\r\n");
  const size_t end = text.find_last_not_of(" \t\r\n");
  if (begin == std::string::npos) return std::nullopt;
  double number = 0;
  const char* first = text.data() + begin;
  const char* last = text.data() + end + 1;
  if (*first == '+') ++first;
  const auto [ptr, error] = std::from_chars(first, last, number);
  if (error != std::errc() || ptr != last) return std::nullopt;
  return number;
}

// numpy.percentile's default (linear) on sorted values.
double Percentile(const std::vector<double>& sorted, double percent) {
  const double rank = percent / 100 * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (rank - static_cast<double>(below));
}

double Median(const std::vector<double>& sorted) {
  const size_t mid = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

}  // namespace

Result<json> AnomalyDetector::Detect(const json& body) {
  if (!body.is_object()) return InvalidRequest("body: expected a JSON object");
  const auto data_it = body.find("data");
  if (data_it == body.end() || !data_it->is_array()) {
    return InvalidRequest("data: expected an array of objects");
  }
  const json& data = *data_it;
  std::string field = "value";
  if (const auto it = body.find("value_field"); it != body.end()) {
    if (!it->is_string()) return InvalidRequest("value_field: expected a string");
    field = it->get<std::string>();
  }
  std::vector<double> values;
  std::vector<size_t> rows;  // the record each value came from
  for (size_t i = 0; i < data.size(); ++i) {
    if (!data[i].is_object())
      return InvalidRequest("data[" + std::to_string(i) + "]: expected an object");
    const auto it = data[i].find(field);
    if (it == data[i].end() || it->is_null()) continue;
    if (const auto number = AsNumber(*it); number && std::isfinite(*number)) {
      values.push_back(*number);
      rows.push_back(i);
    }
  }
  if (values.empty()) {
    json fields = json::array();
    if (!data.empty()) {
      for (const auto& [key, value] : data[0].items()) fields.push_back(key);
    }
    return json{{"error", "Field '" + field + "' not found in data"},
                {"data_sample", data.empty() ? json() : data[0]},
                {"available_fields", fields}};
  }
  const double n = static_cast<double>(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  const double stddev = std::sqrt(squares / n);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const bool zscore_on = values.size() >= 3 && stddev > 0;
  const bool iqr_on = values.size() >= 4;
  const double q1 = Percentile(sorted, 25), q3 = Percentile(sorted, 75), iqr = q3 - q1;
  const double lower = q1 - kIqrMultiplier * iqr, upper = q3 + kIqrMultiplier * iqr;

  json anomalies = json::array();
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    const double z = zscore_on ? std::abs(v - mean) / stddev : 0;
    const bool by_z = zscore_on && z > kZScoreThreshold;
    const bool by_iqr = iqr_on && (v < lower || v > upper);
    if (!by_z && !by_iqr) continue;
    json iqr_details = json::object();
    if (iqr_on) {
      iqr_details = {
          {"index", i},           {"value", v},          {"q1", q1}, {"q3", q3}, {"iqr", iqr},
          {"lower_bound", lower}, {"upper_bound", upper}};
    }
    anomalies.push_back({{"index", rows[i]},
                         {"record", data[rows[i]]},
                         {"value", v},
                         {"confidence", (by_z + by_iqr) / 2.0},
                         {"methods", {{"zscore", by_z}, {"iqr", by_iqr}}},
                         {"zscore_score", z},
                         {"iqr_details", iqr_details}});
  }
  const size_t found = anomalies.size();
  return json{{"detected", found > 0},
              {"total_records", data.size()},
              {"anomalies_found", found},
              {"anomaly_rate", static_cast<double>(found) / static_cast<double>(data.size())},
              {"anomalies", std::move(anomalies)},
              {"summary",
               {{"mean", mean},
                {"median", Median(sorted)},
                {"std", stddev},
                {"min", sorted.front()},
                {"max", sorted.back()},
                {"analyzed", values.size()}}}};
}

}  // namespace botmodels
