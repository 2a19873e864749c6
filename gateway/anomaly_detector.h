#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace botmodels {

// POST /api/detect: finds outliers in one numeric field of a list of
// records, as the Python service does, field for field. A value is an
// anomaly when its z-score (population standard deviation) is over 2.5
// (with at least 3 values and a non-zero spread), or when it lies outside
// Q1 - 1.5 IQR .. Q3 + 1.5 IQR (with at least 4 values; quartiles by linear
// interpolation, as numpy.percentile). Records whose field is missing or not
// a number are skipped but counted in total_records.
//
// It runs in the gateway, not in a worker: it is a few passes over numbers
// already parsed from the request's JSON (O(n log n), bounded by the body
// limit), so a round trip through the broker would cost more than the work.
class AnomalyDetector {
 public:
  static constexpr double kZScoreThreshold = 2.5;  // standard deviations
  static constexpr double kIqrMultiplier = 1.5;    // Tukey's fences

  // `body` is {"data": [objects], "value_field": "value"}. A body of another
  // shape is invalid_request; a field found in no record is answered with
  // error, data_sample and available_fields, as the Python service does.
  static Result<nlohmann::json> Detect(const nlohmann::json& body);
};

}  // namespace botmodels
