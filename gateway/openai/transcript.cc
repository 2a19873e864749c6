#include "gateway/openai/transcript.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "gateway/http_error.h"
#include "gateway/routes/route_replies.h"

namespace botmodels {
namespace {

using nlohmann::json;

// stt's words become phrases (subtitle cues) at a pause this long, or
// when a phrase grows this long or holds this many words.
constexpr double kPauseS = 0.8;
constexpr double kLongestPhraseS = 6;
constexpr size_t kMostWords = 14;

double Number(const json& object, const char* key, double fallback = 0) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string Text(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// stt's words as phrases; each phrase's avg_logprob is the log of its
// words' mean confidence.
std::vector<Transcript::Segment> Phrases(const json& words) {
  std::vector<Transcript::Segment> phrases;
  double confidence = 0;
  size_t count = 0;
  const auto close = [&] {
    if (count == 0) return;
    phrases.back().avg_logprob = std::log(std::max(confidence / static_cast<double>(count), 1e-9));
    confidence = 0;
    count = 0;
  };
  for (const json& word : words) {
    if (!word.is_object()) continue;
    const double start = Number(word, "start_s"), end = Number(word, "end_s");
    const bool new_phrase = count == 0 || start - phrases.back().cue.end_s > kPauseS ||
                            end - phrases.back().cue.start_s > kLongestPhraseS ||
                            count >= kMostWords;
    if (new_phrase) {
      close();
      Transcript::Segment phrase;
      phrase.cue = {start, end, ""};
      phrases.push_back(std::move(phrase));
    }
    Cue& cue = phrases.back().cue;
    cue.text += (cue.text.empty() ? "" : " ") + Text(word, "word");
    cue.end_s = end;
    confidence += Number(word, "confidence", 1);
    ++count;
  }
  close();
  return phrases;
}

std::vector<Cue> Cues(const Transcript& t) {
  std::vector<Cue> cues;
  for (const auto& segment : t.segments) cues.push_back(segment.cue);
  if (cues.empty() && !t.text.empty()) cues.push_back({0, t.duration_s, t.text});
  return cues;
}

HttpResponse Plain(std::string text) {
  return HttpResponse::Text(200, "text/plain; charset=utf-8", std::move(text));
}

}  // namespace

Transcript ReadTranscript(const protocol::NamedTensors& outputs) {
  Transcript t;
  const json text = route_replies::Output(outputs, "text");
  const json language = route_replies::Output(outputs, "language");
  const json duration = route_replies::Output(outputs, "duration_s");
  t.text = text.is_string() ? text.get<std::string>() : "";
  t.language = language.is_string() ? language.get<std::string>() : "";
  t.duration_s = duration.is_number() ? duration.get<double>() : 0;
  const json segments = route_replies::Output(outputs, "segments");
  const json words = route_replies::Output(outputs, "words");
  if (segments.is_array()) {  // whisper
    for (const json& s : segments) {
      if (!s.is_object()) continue;
      Transcript::Segment segment;
      segment.cue = {Number(s, "start_s"), Number(s, "end_s"), Text(s, "text")};
      const auto number = [&](const char* key) -> std::optional<double> {
        const auto it = s.find(key);
        if (it == s.end() || !it->is_number()) return std::nullopt;
        return it->get<double>();
      };
      segment.avg_logprob = number("avg_log_prob");
      segment.temperature = number("temperature").value_or(0);
      segment.compression_ratio = number("compression_ratio");
      segment.no_speech_prob = number("no_speech_prob");
      if (const auto it = s.find("tokens"); it != s.end() && it->is_array()) {
        for (const json& token : *it) {
          if (token.is_number_integer()) segment.tokens.push_back(token.get<int64_t>());
        }
      }
      t.segments.push_back(std::move(segment));
    }
  } else if (words.is_array()) {  // stt
    t.segments = Phrases(words);
    for (const json& w : words) {
      if (w.is_object())
        t.words.push_back({Text(w, "word"), Number(w, "start_s"), Number(w, "end_s")});
    }
  }
  return t;
}

bool IsTranscriptFormat(std::string_view format) {
  return format == "json" || format == "text" || format == "srt" || format == "vtt" ||
         format == "verbose_json";
}

HttpResponse TranscriptResponse(const Transcript& t, std::string_view format, bool with_words,
                                std::string_view task) {
  if (format == "text") return Plain(t.text + "\n");
  if (format == "srt") return Plain(SubRip(Cues(t)));
  if (format == "vtt") return Plain(WebVtt(Cues(t)));
  if (format != "verbose_json") return JsonResponse({{"text", t.text}});
  json segments = json::array();
  for (const auto& s : t.segments) {
    json segment = {{"id", segments.size()},       {"seek", 0},          {"start", s.cue.start_s},
                    {"end", s.cue.end_s},          {"text", s.cue.text}, {"tokens", s.tokens},
                    {"temperature", s.temperature}};
    if (s.avg_logprob) segment["avg_logprob"] = *s.avg_logprob;
    if (s.compression_ratio) segment["compression_ratio"] = *s.compression_ratio;
    if (s.no_speech_prob) segment["no_speech_prob"] = *s.no_speech_prob;
    segments.push_back(std::move(segment));
  }
  json body = {{"task", task},
               {"language", t.language},
               {"duration", t.duration_s},
               {"text", t.text},
               {"segments", segments}};
  if (with_words) {
    json words = json::array();
    for (const auto& w : t.words) {
      words.push_back({{"word", w.word}, {"start", w.start_s}, {"end", w.end_s}});
    }
    body["words"] = words;
  }
  return JsonResponse(body);
}

}  // namespace botmodels
