#include "models/speech/stt_backend.h"

#include <pocketsphinx.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/value.h"

namespace botmodels {
namespace {

// A dictionary word without its alternative-pronunciation mark: "read(2)" is "read".
std::string Plain(const char* word) {
  std::string w(word);
  if (const auto paren = w.find('('); paren != std::string::npos && paren > 0) w.resize(paren);
  return w;
}

// Silence, breath and noise markers ("<s>", "<sil>", "[NOISE]", "++um++") are no words.
bool IsFiller(const char* word) { return word[0] == '<' || word[0] == '[' || word[0] == '+'; }

constexpr size_t kMaxGrammarBytes = 64 << 10;  // a grammar of thousands of phrases
constexpr char kRequestSearch[] = "request";   // the search a request's grammar becomes
// The language model's search: PocketSphinx's PS_DEFAULT_SEARCH, which its
// public headers do not export (and ps_get_search leaks an iterator in 5prealpha).
constexpr char kLanguageModelSearch[] = "_default";

// Makes the language model's search current again when a request's grammar is done.
class SearchGuard {
 public:
  explicit SearchGuard(ps_decoder_t* ps) : ps_(ps) {}
  ~SearchGuard() {
    ps_set_search(ps_, kLanguageModelSearch);
    ps_unset_search(ps_, kRequestSearch);
  }
  SearchGuard(const SearchGuard&) = delete;
  SearchGuard& operator=(const SearchGuard&) = delete;

 private:
  ps_decoder_t* ps_;
};

// Letters, digits, apostrophes and spaces: a phrase of dictionary words.
bool PlainPhrase(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '\'' || c == ' ';
  });
}

struct SttResult {
  std::string text, confidence, language, words, duration;
};

}  // namespace

SttBackend::SttBackend(ModelConfig config)
    : config_(std::move(config)),
      decoder_(kSampleRate, config_.options.Get<SttOptions>().max_seconds) {}

SttBackend::~SttBackend() {
  if (decoder_ps_) ps_free(decoder_ps_);
}

Status SttBackend::Load() {
  if (load_status_) return *load_status_;
  const std::string dir = config_.options.Get<SttOptions>().model_dir;
  const std::string hmm = dir + "/en-us", lm = dir + "/en-us.lm.bin",
                    dict = dir + "/cmudict-en-us.dict";
  for (const std::string& path : {hmm, lm, dict}) {
    if (std::error_code ec; !std::filesystem::exists(path, ec)) {
      load_status_ = Status(ErrorCode::kModelLoadFailed,
                            "stt: " + path + " is missing (apt install pocketsphinx-en-us)");
      return *load_status_;
    }
  }
  cmd_ln_t* args = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-lm", lm.c_str(),
                               "-dict", dict.c_str(), "-logfn", "/dev/null", nullptr);
  decoder_ps_ = args ? ps_init(args) : nullptr;
  if (args) cmd_ln_free_r(args);  // the decoder holds its own reference
  load_status_ = decoder_ps_ ? Status()
                             : Status(ErrorCode::kModelLoadFailed,
                                      "stt: pocketsphinx could not load the model in " + dir);
  return *load_status_;
}

Result<std::optional<std::string>> SttBackend::GrammarOf(const protocol::TensorViews& inputs) {
  if (auto it = inputs.find(stt_io::kGrammar); it != inputs.end()) {
    if (it->second.data.size() > kMaxGrammarBytes) {
      return InvalidRequest("input 'grammar': over " + std::to_string(kMaxGrammarBytes) + " bytes");
    }
    return std::optional<std::string>(it->second.data);
  }
  auto it = inputs.find(stt_io::kKeywords);
  if (it == inputs.end()) return std::optional<std::string>();
  const nlohmann::json list = nlohmann::json::parse(ValueToJson(it->second.data));
  std::string alternatives;
  const auto bad = InvalidRequest("input 'keywords': an array of words or phrases");
  if (!list.is_array() || list.empty()) return bad;
  for (const auto& keyword : list) {
    if (!keyword.is_string() || !PlainPhrase(keyword.get<std::string>())) return bad;
    std::string phrase = keyword.get<std::string>();
    std::transform(phrase.begin(), phrase.end(), phrase.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    alternatives += (alternatives.empty() ? "(" : " | (") + phrase + ")";
    if (alternatives.size() > kMaxGrammarBytes) return bad;
  }
  return std::optional<std::string>(
      "#JSGF V1.0;\ngrammar keywords;\npublic <keyword> = " + alternatives + ";\n");
}

Result<ModelOutputs> SttBackend::Infer(const protocol::TensorViews& inputs) {
  auto audio = decoder_.Decode(inputs.at(stt_io::kAudio).data);
  if (!audio.ok()) return audio.status();
  auto grammar = GrammarOf(inputs);
  if (!grammar.ok()) return grammar.status();
  std::optional<SearchGuard> restore;
  if (*grammar) {
    if (ps_set_jsgf_string(decoder_ps_, kRequestSearch, (*grammar)->c_str()) != 0) {
      return InvalidRequest(
          "the grammar does not parse, or names a word the dictionary does not have");
    }
    restore.emplace(decoder_ps_);
    ps_set_search(decoder_ps_, kRequestSearch);
  }
  if (ps_start_utt(decoder_ps_) < 0 ||
      ps_process_raw(decoder_ps_, audio->samples.data(), audio->samples.size(), FALSE, TRUE) < 0 ||
      ps_end_utt(decoder_ps_) < 0) {
    return Status(ErrorCode::kInternal, "stt: pocketsphinx failed on the audio");
  }
  int32 score = 0;
  const char* hyp = ps_get_hyp(decoder_ps_, &score);
  logmath_t* lmath = ps_get_logmath(decoder_ps_);

  struct Word {
    std::string word;
    double start, end, confidence;
  };
  std::vector<Word> words;
  for (ps_seg_t* seg = ps_seg_iter(decoder_ps_); seg; seg = ps_seg_next(seg)) {
    const char* word = ps_seg_word(seg);
    if (!word || IsFiller(word)) continue;
    int start = 0, end = 0;
    ps_seg_frames(seg, &start, &end);
    int32 acoustic = 0, language = 0, backoff = 0;
    const int32 posterior = ps_seg_prob(seg, &acoustic, &language, &backoff);
    words.push_back({Plain(word), static_cast<double>(start) / kFramesPerSecond,
                     static_cast<double>(end + 1) / kFramesPerSecond,
                     std::clamp(logmath_exp(lmath, posterior), 0.0, 1.0)});
  }
  // The words' mean posterior: the utterance's own posterior shrinks with
  // its length and says little past a few words.
  double confidence = 0;
  for (const Word& w : words) confidence += w.confidence / static_cast<double>(words.size());
  ValueWriter list;
  list.Array(words.size());
  for (const Word& w : words) {
    list.Map(4).Str("word").Str(w.word).Str("start_s").Double(w.start).Str("end_s").Double(w.end);
    list.Str("confidence").Double(w.confidence);
  }
  auto result = std::make_shared<SttResult>();
  result->text = hyp ? hyp : "";
  result->confidence = ValueWriter().Double(confidence).Take();
  result->language = "en-us";
  result->words = list.Take();
  result->duration = ValueWriter().Double(audio->seconds).Take();
  ModelOutputs out;
  out.views[stt_io::kText] = {protocol::DType::kString, {}, result->text};
  out.views[stt_io::kConfidence] = {protocol::DType::kValue, {}, result->confidence};
  out.views[stt_io::kLanguage] = {protocol::DType::kString, {}, result->language};
  out.views[stt_io::kWords] = {protocol::DType::kValue, {}, result->words};
  out.views[stt_io::kDuration] = {protocol::DType::kValue, {}, result->duration};
  out.owner = std::move(result);
  return out;
}

}  // namespace botmodels
