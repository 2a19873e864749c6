// AnomalyDetector: /api/detect against reference numbers.
#include "gateway/anomaly_detector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;

TEST(AnomalyDetector, MatchesNumpyOnIqrOutliersThatZScoresMiss) {
  // Reference values from numpy 1.24: np.mean, np.median, np.std,
  // np.percentile(v, 25 / 75) and |v - mean| / std.
  json data = json::array();
  for (double v : {52.0, 48.5, 50.2, 49.9, 51.1, 47.8, 50.6, 120.0, 49.3, 50.0, -20.0, 50.4}) {
    data.push_back({{"value", v}});
  }
  auto r = AnomalyDetector::Detect({{"data", data}});
  ASSERT_OK(r);
  const json& s = (*r)["summary"];
  EXPECT_NEAR(s["mean"].get<double>(), 49.98333333333333, 1e-9);
  EXPECT_NEAR(s["median"].get<double>(), 50.1, 1e-9);
  EXPECT_NEAR(s["std"].get<double>(), 28.596848116920548, 1e-9);
  EXPECT_EQ(s["min"], -20.0);
  EXPECT_EQ(s["max"], 120.0);
  ASSERT_EQ((*r)["anomalies_found"], 2);
  const json& high = (*r)["anomalies"][0];
  EXPECT_EQ(high["index"], 7);
  EXPECT_EQ(high["methods"], json({{"zscore", false}, {"iqr", true}}));
  EXPECT_EQ(high["confidence"], 0.5);
  EXPECT_NEAR(high["zscore_score"].get<double>(), 2.448405, 1e-6);
  EXPECT_NEAR(high["iqr_details"]["q1"].get<double>(), 49.1, 1e-9);
  EXPECT_NEAR(high["iqr_details"]["q3"].get<double>(), 50.725, 1e-9);
  EXPECT_NEAR(high["iqr_details"]["lower_bound"].get<double>(), 46.6625, 1e-9);
  EXPECT_NEAR(high["iqr_details"]["upper_bound"].get<double>(), 53.1625, 1e-9);
  EXPECT_EQ((*r)["anomalies"][1]["index"], 10);
  EXPECT_NEAR((*r)["anomaly_rate"].get<double>(), 2.0 / 12, 1e-12);
}

TEST(AnomalyDetector, BothMethodsFlagAFarOutlierAndSkippedRowsKeepTheirIndex) {
  json data = json::array();
  data.push_back({{"x", "n/a"}});  // not a number: skipped
  for (double v : {10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 10, 11}) data.push_back({{"x", v}});
  data.push_back({{"x", "100"}});  // a number in a string counts, as float() reads it
  auto r = AnomalyDetector::Detect({{"data", data}, {"value_field", "x"}});
  ASSERT_OK(r);
  EXPECT_EQ((*r)["total_records"], 14);
  EXPECT_EQ((*r)["summary"]["analyzed"], 13);
  EXPECT_NEAR((*r)["summary"]["std"].get<double>(), 23.79249546047422, 1e-9);
  ASSERT_EQ((*r)["anomalies_found"], 1);
  const json& a = (*r)["anomalies"][0];
  EXPECT_EQ(a["index"], 13);
  EXPECT_EQ(a["confidence"], 1.0);
  EXPECT_NEAR(a["zscore_score"].get<double>(), 3.462630286994424, 1e-9);
  EXPECT_EQ(a["record"]["x"], "100");
}

TEST(AnomalyDetector, AMissingFieldListsTheFieldsThereAreAndBadShapesAreErrors) {
  auto r = AnomalyDetector::Detect({{"data", {{{"a", 1}, {"b", 2}}}}, {"value_field", "c"}});
  ASSERT_OK(r);
  EXPECT_EQ((*r)["error"], "Field 'c' not found in data");
  EXPECT_EQ((*r)["available_fields"], json({"a", "b"}));
  EXPECT_EQ((*r)["data_sample"], json({{"a", 1}, {"b", 2}}));
  EXPECT_FALSE(AnomalyDetector::Detect({{"data", 3}}).ok());
  EXPECT_FALSE(AnomalyDetector::Detect({{"data", {1, 2}}}).ok());
  EXPECT_FALSE(AnomalyDetector::Detect(json::array()).ok());
  // Too few values for either method: nothing is flagged.
  auto few = AnomalyDetector::Detect({{"data", {{{"value", 1}}, {{"value", 1000}}}}});
  ASSERT_OK(few);
  EXPECT_EQ((*few)["anomalies_found"], 0);
}

}  // namespace
}  // namespace botmodels
