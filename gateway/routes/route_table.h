#pragma once

#include <span>

#include "gateway/routes/post_route.h"

namespace botmodels {

// Every POST route, in the reference's order (docs/gateway.md): the families'
// rows one after the other.
std::span<const PostRoute> PostRoutes();

// Each family's rows, from its <family>_routes.cc.
std::span<const PostRoute> GenerateRoutes();  // image and video generation
std::span<const PostRoute> SpeechRoutes();    // speak, transcribe, detect a language
std::span<const PostRoute> VisionRoutes();    // describe, read text and codes, analyze
std::span<const PostRoute> DetectRoutes();    // outliers in records

}  // namespace botmodels
