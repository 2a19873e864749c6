#include "gateway/routes/route_table.h"

#include <vector>

namespace botmodels {

std::span<const PostRoute> PostRoutes() {
  static const std::vector<PostRoute> routes = [] {
    std::vector<PostRoute> all;
    for (const auto family : {GenerateRoutes, SpeechRoutes, VisionRoutes, DetectRoutes}) {
      const std::span<const PostRoute> rows = family();
      all.insert(all.end(), rows.begin(), rows.end());
    }
    return all;
  }();
  return routes;
}

}  // namespace botmodels
