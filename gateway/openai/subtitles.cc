#include "gateway/openai/subtitles.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace botmodels {
namespace {

// "HH:MM:SS<separator>mmm", the hours as many digits as they need.
std::string Time(double seconds, char separator) {
  const auto ms = static_cast<long long>(std::llround(std::max(seconds, 0.0) * 1000));
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld%c%03lld", ms / 3'600'000, ms / 60'000 % 60,
                ms / 1000 % 60, separator, ms % 1000);
  return text;
}

// A cue's text with its blank lines removed: a blank line would end the cue.
std::string Body(const std::string& text) {
  std::string body;
  for (size_t at = 0; at <= text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) {
      body += (body.empty() ? "" : "\n") + line;
    }
    at = end + 1;
  }
  return body;
}

std::string Cues(const std::vector<Cue>& cues, char separator, bool numbered) {
  std::string out;
  int n = 0;
  for (const Cue& cue : cues) {
    if (numbered) out += std::to_string(++n) + "\n";
    out += Time(cue.start_s, separator) + " --> " +
           Time(std::max(cue.end_s, cue.start_s), separator) + "\n" + Body(cue.text) + "\n\n";
  }
  return out;
}

}  // namespace

std::string SubRip(const std::vector<Cue>& cues) { return Cues(cues, ',', true); }

std::string WebVtt(const std::vector<Cue>& cues) { return "WEBVTT\n\n" + Cues(cues, '.', false); }

}  // namespace botmodels
