#include "gateway/routes/route_table.h"

namespace botmodels {
namespace {

using K = FieldKind;

constexpr FieldSpec kDetectFields[] = {
    {"data", K::kRecords, 0, 0, 0, "", ""},
    {"value_field", K::kText, 0, 0, 0, "value", ""},
};

constexpr PostRoute kRoutes[] = {
    {.path = "/api/detect",
     .summary = "Find outliers in one field of a list of records",
     .handler = RouteHandler::kDetect,
     .fields = kDetectFields},
};

}  // namespace

std::span<const PostRoute> DetectRoutes() { return kRoutes; }

}  // namespace botmodels
