#include "bench/native_bench.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "bench/host.h"
#include "bench/served_broker.h"
#include "common/codec.h"
#include "common/process_info.h"
#include "models/codecs/wav.h"
#include "models/native_backends.h"
#include "testing/media.h"

namespace botmodels::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using protocol::DType;
using protocol::NamedTensors;

constexpr int kA4Width = 2480, kA4Height = 3508;       // px: A4 at 300 dpi
constexpr int kPhotoWidth = 1155, kPhotoHeight = 866;  // px: 1 MP, 4:3
constexpr int kSttRate = 16000;                        // Hz: Flite's, and what STT resamples to

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

protocol::Tensor Bytes(std::string s) { return {DType::kBytes, {}, std::move(s)}; }
protocol::Tensor Text(std::string s) { return {DType::kString, {}, std::move(s)}; }

// `content` pasted at (x, y) on a `w` x `h` page of gray `level`, with
// noise of +-`noise` when asked: a photo's grain.
std::string Page(Pix* content, int w, int h, int x, int y, int level, int noise, bool jpeg) {
  PixPtr page(pixCreate(w, h, 8));
  pixSetAllArbitrary(page.get(), static_cast<l_uint32>(level));
  pixRasterop(page.get(), x, y, pixGetWidth(content), pixGetHeight(content), PIX_SRC & PIX_DST,
              content, 0, 0);
  if (noise > 0) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> d(-noise, noise);
    for (int py = 0; py < h; ++py) {
      for (int px = 0; px < w; ++px) {
        l_uint32 v = 0;
        pixGetPixel(page.get(), px, py, &v);
        pixSetPixel(page.get(), px, py, static_cast<l_uint32>(std::clamp<int>(v + d(rng), 0, 255)));
      }
    }
  }
  return jpeg ? media::PixToJpeg(page.get()) : media::PixToPng(page.get());
}

// `lines` lines of text on an A4 page at 300 dpi.
std::string A4Page(int lines_of_text) {
  std::string text;
  for (int line = 0; line < lines_of_text; ++line) {
    text += fmt::format("{:02d} The quick brown fox jumps over the lazy dog; invoice {} paid.\n",
                        line, 1000 + line * 37);
  }
  auto lines = media::RenderText(text, 36);  // ~9 pt at 300 dpi
  return Page(lines.get(), kA4Width, kA4Height, 150, 150, 255, 0, false);
}

std::string Photo() {
  auto lines = media::RenderText("RECEIPT 2026-11-30\nCoffee 2x 7.00\nTotal 14.00 EUR", 48);
  return Page(lines.get(), kPhotoWidth, kPhotoHeight, 200, 250, 210, 12, true);
}

std::string QrPhoto() {
  auto code = media::DrawBarcode("QRCode", "https://example.org/order/4711", 300, 300);
  return Page(code.get(), kPhotoWidth, kPhotoHeight, 400, 280, 210, 12, true);
}

const std::vector<std::string> kSentences{
    "The weather is nice today.",         "Please call me back in the morning.",
    "I would like to order two pizzas.",  "Where is the nearest train station?",
    "Thank you very much for your help.",
};

const char kParagraph[] =
    "Good morning. Your order number forty two has been shipped and will arrive on Tuesday. "
    "If you are not at home, the courier will leave it with a neighbour. You can follow the "
    "parcel on our website, or answer this message with the word help to talk to a person. "
    "Thank you for shopping with us, and have a wonderful day.";

ModelConfig Config(const fs::path& repo, const std::string& name) {
  auto c = LoadModelConfig((repo / name).string());
  if (!c.ok()) throw std::runtime_error(c.status().message());
  return *c;
}

std::unique_ptr<ModelBackend> Loaded(const ModelConfig& config, double* load_ms) {
  const auto start = Clock::now();
  auto backend = MakeNativeBackend(config, "cpu");
  if (!backend.ok()) throw std::runtime_error(backend.status().message());
  if (Status s = (*backend)->Load(); !s.ok()) throw std::runtime_error(s.message());
  if (load_ms) *load_ms = MsSince(start);
  return std::move(*backend);
}

NamedTensors InProcess(ModelBackend& backend, const NamedTensors& inputs) {
  auto out = backend.Infer(protocol::ViewsOf(inputs));
  if (!out.ok()) throw std::runtime_error(out.status().message());
  NamedTensors copied;
  for (const auto& [name, view] : out->views) copied.emplace(name, protocol::Copy(view));
  return copied;
}

NamedTensors Served(Client& client, const std::string& model, NamedTensors inputs) {
  auto out = client.Infer(model, std::move(inputs));
  if (!out.ok()) throw std::runtime_error(model + ": " + out.status().message());
  return *out;
}

// Median ms of `runs` calls of `call`.
template <typename Call>
double Time(int runs, Call call) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    call();
    ms.push_back(MsSince(start));
  }
  return Median(ms);
}

double AudioSeconds(const std::string& wav) {
  int rate = 0;
  return static_cast<double>(ReadWavSamples(wav, &rate).size()) / std::max(rate, 1);
}

void WriteModels(const fs::path& repo, const fs::path& torch_repository) {
  const auto write = [&](const std::string& name, const std::string& toml) {
    fs::create_directories(repo / name);
    std::ofstream(repo / name / "model.toml") << toml << "preload = true\n";
  };
  write("ocr", "backend = \"ocr\"\n");
  write("ocr2", "backend = \"ocr\"\nreplicas = 2\n");
  write("barcode", "backend = \"barcode\"\n");
  write("qrcode", "backend = \"qrcode\"\n");
  write("tts", "backend = \"tts\"\n");
  write("stt", "backend = \"stt\"\n");
  if (fs::exists(torch_repository / "double")) {
    fs::copy(torch_repository / "double", repo / "double", fs::copy_options::recursive);
  }
}

void MeasureStarts(const NativeBenchOptions& o, const fs::path& dir, const fs::path& repo,
                   NativeBenchReport& report) {
  for (const std::string name : {"ocr", "barcode", "qrcode", "tts", "stt", "double"}) {
    if (!fs::exists(repo / name)) continue;
    WorkerStart start{name == "double" ? "torchscript (double)" : name};
    if (name != "double") Loaded(Config(repo, name), &start.engine_load_ms);
    ServedBroker broker({o.bin_dir, dir, "start-" + name, repo.string(), {name}, 1});
    start.ready_ms = broker.ready_ms();
    const auto pids = broker.WorkerPids();
    if (!pids.empty()) start.rss_mb = static_cast<double>(RssBytes(pids.front())) / (1 << 20);
    report.starts.push_back(start);
  }
}

void MeasureLatencies(const NativeBenchOptions& o, const fs::path& dir, const fs::path& repo,
                      NativeBenchReport& report) {
  ServedBroker broker(
      {o.bin_dir, dir, "latency", repo.string(), {"ocr", "barcode", "tts", "stt"}, 4});
  Client& client = broker.client();
  const int runs = o.smoke ? 1 : o.runs;
  const auto side = [&](std::string what, double served, double in_process, std::string unit) {
    report.latencies.push_back({std::move(what), served, in_process, std::move(unit)});
  };

  auto ocr = Loaded(Config(repo, "ocr"), nullptr);
  const int page_lines = o.smoke ? 5 : 60;  // smoke: the same path, a second not ten
  for (const auto& [what, image, n] :
       {std::tuple{fmt::format("ocr: A4 page, 300 dpi, {} lines", page_lines), A4Page(page_lines),
                   o.smoke ? 1 : o.ocr_page_runs},
        std::tuple{std::string("ocr: 1 MP photo (JPEG)"), Photo(), runs}}) {
    const NamedTensors in{{"image", Bytes(image)}};
    InProcess(*ocr, in);  // first call: Tesseract's own warm-up
    side(what, Time(n, [&] { Served(client, "ocr", in); }), Time(n, [&] { InProcess(*ocr, in); }),
         "ms");
  }
  auto barcode = Loaded(Config(repo, "barcode"), nullptr);
  const NamedTensors qr{{"image", Bytes(QrPhoto())}};
  side("barcode: QR code in a 1 MP photo", Time(runs, [&] { Served(client, "barcode", qr); }),
       Time(runs, [&] { InProcess(*barcode, qr); }), "ms");

  auto tts = Loaded(Config(repo, "tts"), nullptr);
  const NamedTensors text{{"text", Text(kParagraph)}};
  const double speech_s = AudioSeconds(InProcess(*tts, text).at("audio").data);
  const double tts_served = Time(runs, [&] { Served(client, "tts", text); });
  const double tts_local = Time(runs, [&] { InProcess(*tts, text); });
  side(fmt::format("tts: {} words ({:.1f} s of speech), whole", 70, speech_s), tts_served,
       tts_local, "ms");
  side("tts: real-time factor (time / speech)", tts_served / 1000 / speech_s,
       tts_local / 1000 / speech_s, "x");
  std::vector<double> first_served, first_local;
  for (int i = 0; i < runs; ++i) {
    protocol::Request request;
    request.op = protocol::Op::kInfer;
    request.model = "tts";
    request.inputs = text;
    std::optional<double> served, local;
    const auto start = Clock::now();
    auto reply = client.Stream(request, [&](const protocol::Reply&) {
      if (!served) served = MsSince(start);
    });
    if (!reply.ok() || !reply->status.ok() || !served) throw std::runtime_error("tts: no stream");
    const auto local_start = Clock::now();
    RequestContext context;
    context.partial = [&](const protocol::TensorViews&) {
      if (!local) local = MsSince(local_start);
    };
    auto out = tts->InferRequest(protocol::ViewsOf(text), context);
    if (!out.ok() || !local) throw std::runtime_error("tts: no stream in-process");
    first_served.push_back(*served);
    first_local.push_back(*local);
  }
  side("tts: first chunk of a streamed reply", Median(first_served), Median(first_local), "ms");

  auto stt = Loaded(Config(repo, "stt"), nullptr);
  std::vector<std::string> wavs;
  double audio_s = 0;
  for (const std::string& sentence : kSentences) {
    wavs.push_back(InProcess(*tts, {{"text", Text(sentence)}}).at("audio").data);
    audio_s += AudioSeconds(wavs.back());
  }
  std::vector<double> served_ms, local_ms;
  std::string said, heard;
  for (int i = 0; i < runs; ++i) {
    double served = 0, local = 0;
    for (size_t k = 0; k < wavs.size(); ++k) {
      const NamedTensors in{{"audio", Bytes(wavs[k])}};
      auto start = Clock::now();
      const NamedTensors out = Served(client, "stt", in);
      served += MsSince(start);
      start = Clock::now();
      InProcess(*stt, in);
      local += MsSince(start);
      if (i == 0) {
        said += kSentences[k] + " ";
        heard += out.at("text").data + " ";
      }
    }
    served_ms.push_back(served);
    local_ms.push_back(local);
  }
  side(fmt::format("stt: {} sentences ({:.1f} s of speech)", wavs.size(), audio_s),
       Median(served_ms), Median(local_ms), "ms");
  side("stt: real-time factor (time / speech)", Median(served_ms) / 1000 / audio_s,
       Median(local_ms) / 1000 / audio_s, "x");
  report.stt_word_error_rate = media::WordErrorRate(said, heard);
  report.stt_words = static_cast<int>(std::count(said.begin(), said.end(), ' '));
}

void MeasureThroughput(const NativeBenchOptions& o, const fs::path& dir, const fs::path& repo,
                       NativeBenchReport& report) {
  constexpr int kClients = 2;  // one per core of the smallest host we serve on
  const std::string photo = Photo();
  for (const auto& [model, workers] : {std::pair{"ocr", 1}, std::pair{"ocr2", 2}}) {
    ServedBroker broker({o.bin_dir,
                         dir,
                         std::string("throughput-") + model,
                         repo.string(),
                         {model},
                         static_cast<uint32_t>(workers)});
    std::vector<std::string> bodies;
    for (int slot = 0; slot < kClients; ++slot) {
      protocol::Request r;
      r.id = std::to_string(slot);
      r.op = protocol::Op::kInfer;
      r.model = model;
      r.inputs = {{"image", Bytes(photo)}};
      bodies.push_back(codec::EncodeRequest(r));
    }
    zmq::context_t context;
    const auto seconds =
        std::chrono::milliseconds(o.smoke ? 500 : static_cast<int>(o.throughput_seconds * 1000));
    const LoadResult result = RunClosedLoop(
        context, broker.frontend(), kClients, std::chrono::milliseconds(o.smoke ? 0 : 500), seconds,
        [&](int slot) { return broker.client().SignedFrames(bodies[slot]); }, ReadBrokerReply);
    if (result.errors > 0) throw std::runtime_error("throughput: error replies");
    report.throughput.push_back({"ocr: 1 MP photos", workers, kClients, result.per_second});
  }
}

}  // namespace

NativeBenchReport RunNativeBench(const NativeBenchOptions& o) {
  NativeBenchReport report;
  report.when = UtcNow();
  report.cpu = CpuName();
  WorkDir dir;
  const fs::path repo = dir.path() / "models";
  WriteModels(repo, o.repository);
  MeasureStarts(o, dir.path(), repo, report);
  MeasureLatencies(o, dir.path(), repo, report);
  MeasureThroughput(o, dir.path(), repo, report);
  return report;
}

std::string NativeTable(const NativeBenchReport& r) {
  std::string out = fmt::format("botmodels-native-bench, {} on {}\n\n", r.when, r.cpu);
  out += fmt::format("{:<46} {:>12} {:>12} {:>8}\n", "latency (median)", "served", "in-process",
                     "ratio");
  for (const SideBySide& s : r.latencies) {
    const int digits = s.unit == "x" ? 3 : 1;
    out += fmt::format("{:<46} {:>10.{}f}{:>2} {:>10.{}f}{:>2} {:>7.3f}\n", s.what, s.served,
                       digits, s.unit, s.in_process, digits, s.unit,
                       s.in_process > 0 ? s.served / s.in_process : 0.0);
  }
  out += fmt::format("stt word error rate: {:.3f} on {} words of synthetic speech\n\n",
                     r.stt_word_error_rate, r.stt_words);
  out += fmt::format("{:<22} {:>16} {:>18} {:>10}\n", "worker start", "ready (ms)",
                     "engine load (ms)", "RSS (MB)");
  for (const WorkerStart& s : r.starts) {
    out += fmt::format("{:<22} {:>16.0f} {:>18.0f} {:>10.1f}\n", s.backend, s.ready_ms,
                       s.engine_load_ms, s.rss_mb);
  }
  out +=
      "(ready: broker spawned -> the worker registered with its engine loaded; engine load:\n"
      " the same backend made and loaded in-process)\n\n";
  for (const Throughput& t : r.throughput) {
    out += fmt::format("throughput, {}: {} worker(s), {} clients: {:.2f} replies/s\n", t.what,
                       t.workers, t.concurrency, t.per_second);
  }
  return out;
}

std::string NativeJson(const NativeBenchReport& r) {
  nlohmann::json j;
  j["when"] = r.when;
  j["cpu"] = r.cpu;
  for (const SideBySide& s : r.latencies) {
    j["latencies"].push_back(
        {{"what", s.what}, {"served", s.served}, {"in_process", s.in_process}, {"unit", s.unit}});
  }
  for (const WorkerStart& s : r.starts) {
    j["starts"].push_back({{"backend", s.backend},
                           {"ready_ms", s.ready_ms},
                           {"engine_load_ms", s.engine_load_ms},
                           {"rss_mb", s.rss_mb}});
  }
  for (const Throughput& t : r.throughput) {
    j["throughput"].push_back({{"what", t.what},
                               {"workers", t.workers},
                               {"concurrency", t.concurrency},
                               {"per_second", t.per_second}});
  }
  j["stt_word_error_rate"] = r.stt_word_error_rate;
  j["stt_words"] = r.stt_words;
  return j.dump(2);
}

}  // namespace botmodels::bench
