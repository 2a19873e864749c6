#include "common/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace botmodels {
namespace {

// The fields of the LogFields scopes open on this thread, outermost first.
thread_local std::vector<std::pair<std::string, std::string>> t_fields;

// Formats each event as one JSON object; nlohmann::json escapes the text.
class JsonFormatter final : public spdlog::formatter {
 public:
  JsonFormatter(std::string process, std::vector<std::pair<std::string, std::string>> fields)
      : process_(std::move(process)), fields_(std::move(fields)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    nlohmann::json event = {{"ts", ms / 1000.0},
                            {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                  spdlog::level::to_string_view(msg.level).size())},
                            {"process", process_},
                            {"pid", ::getpid()},
                            {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    for (const auto& [key, value] : fields_) event[key] = value;
    for (const auto& [key, value] : t_fields) event[key] = value;
    // Replace invalid UTF-8 rather than throw: a log line must never fail.
    const std::string line =
        event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(process_, fields_);
  }

 private:
  const std::string process_;
  const std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace

LogFields::LogFields(std::initializer_list<std::pair<std::string_view, std::string_view>> fields)
    : mark_(t_fields.size()) {
  for (const auto& [key, value] : fields) t_fields.emplace_back(key, value);
}

LogFields::~LogFields() { t_fields.resize(mark_); }

bool SetLogFormat(const std::string& format, const std::string& process,
                  std::vector<std::pair<std::string, std::string>> fields) {
  if (format == "json") {
    spdlog::set_formatter(std::make_unique<JsonFormatter>(process, std::move(fields)));
  } else if (format == "text") {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + process + " %P] %v");
  } else {
    return false;
  }
  return true;
}

}  // namespace botmodels
