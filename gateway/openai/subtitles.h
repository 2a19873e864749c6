#pragma once

#include <string>
#include <vector>

namespace botmodels {

// One timed piece of a transcript.
struct Cue {
  double start_s = 0, end_s = 0;
  std::string text;
};

// SubRip: numbered cues from 1, "00:01:02,345 --> 00:01:04,000", the text,
// a blank line after each. Times below 0 read as 0; an end before its start
// is moved to the start.
std::string SubRip(const std::vector<Cue>& cues);
// WebVTT: "WEBVTT", a blank line, then cues timed "00:01:02.345 --> 00:01:04.000".
std::string WebVtt(const std::vector<Cue>& cues);

}  // namespace botmodels
