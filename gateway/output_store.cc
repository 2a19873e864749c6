#include "gateway/output_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <vector>

namespace botmodels {
namespace {

namespace fs = std::filesystem;

// A format a generated file may have: its folder, how its bytes start, its
// extension and content type.
struct Format {
  OutputKind kind;
  std::string_view folder;
  bool (*matches)(std::string_view bytes);
  std::string_view extension;
  std::string_view content_type;
};

bool At(std::string_view b, size_t offset, std::string_view magic) {
  return b.size() >= offset + magic.size() && b.substr(offset, magic.size()) == magic;
}

constexpr Format kFormats[] = {
    {OutputKind::kImage, "images", [](auto b) { return At(b, 0, "\x89PNG\r\n\x1a\n"); }, "png",
     "image/png"},
    {OutputKind::kImage, "images", [](auto b) { return At(b, 0, "\xff\xd8\xff"); }, "jpg",
     "image/jpeg"},
    {OutputKind::kImage, "images", [](auto b) { return At(b, 0, "RIFF") && At(b, 8, "WEBP"); },
     "webp", "image/webp"},
    {OutputKind::kImage, "images", [](auto b) { return At(b, 0, "GIF8"); }, "gif", "image/gif"},
    {OutputKind::kVideo, "videos", [](auto b) { return At(b, 4, "ftyp"); }, "mp4", "video/mp4"},
    {OutputKind::kVideo, "videos", [](auto b) { return At(b, 0, "\x1a\x45\xdf\xa3"); }, "webm",
     "video/webm"},
    {OutputKind::kVideo, "videos", [](auto b) { return At(b, 0, "GIF8"); }, "gif", "image/gif"},
    {OutputKind::kAudio, "audio", [](auto b) { return At(b, 0, "RIFF") && At(b, 8, "WAVE"); },
     "wav", "audio/wav"},
    {OutputKind::kAudio, "audio", [](auto b) { return At(b, 0, "OggS"); }, "ogg", "audio/ogg"},
    {OutputKind::kAudio, "audio", [](auto b) { return At(b, 0, "fLaC"); }, "flac", "audio/flac"},
    {OutputKind::kAudio, "audio", [](auto b) { return At(b, 0, "ID3"); }, "mp3", "audio/mpeg"},
};
constexpr std::string_view kFolders[] = {"images", "videos", "audio"};
constexpr size_t kRandomBytes = 16;  // 128 bits: names cannot be guessed

std::string_view FolderOf(OutputKind kind) { return kFolders[static_cast<size_t>(kind)]; }

// "20261130_101500": a name sorts by time, as the Python service's do.
std::string UtcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y%m%d_%H%M%S", &tm);
  return text.data();
}

// A name Save() could have written: stamp, '_', hex, '.', known extension.
const Format* NameFormat(std::string_view folder, std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 64) return nullptr;
  for (char c : name.substr(0, dot)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return nullptr;
  }
  for (const Format& f : kFormats) {
    if (f.folder == folder && name.substr(dot + 1) == f.extension) return &f;
  }
  return nullptr;
}

}  // namespace

OutputFile::OutputFile(OutputFile&& other) noexcept
    : fd(std::exchange(other.fd, -1)),
      size(other.size),
      content_type(std::move(other.content_type)) {}

OutputFile& OutputFile::operator=(OutputFile&& other) noexcept {
  if (this != &other) {
    if (fd >= 0) ::close(fd);
    fd = std::exchange(other.fd, -1);
    size = other.size;
    content_type = std::move(other.content_type);
  }
  return *this;
}

OutputFile::~OutputFile() {
  if (fd >= 0) ::close(fd);
}

OutputStore::OutputStore(std::string dir, std::chrono::milliseconds retention, int64_t max_bytes)
    : dir_(std::move(dir)), retention_(retention), max_bytes_(max_bytes) {}

Status OutputStore::Open() {
  for (std::string_view folder : kFolders) {
    const fs::path path = fs::path(dir_) / folder;
    std::error_code error;
    fs::create_directories(path, error);
    if (error || !fs::is_directory(path)) {
      return {ErrorCode::kInternal, "outputs_dir: cannot create " + path.string() + ": " +
                                        (error ? error.message() : "not a folder")};
    }
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                    error);
  }
  return {};
}

Result<std::string> OutputStore::Save(OutputKind kind, std::string_view bytes) {
  const Format* format = nullptr;
  for (const Format& f : kFormats) {
    if (f.kind == kind && f.matches(bytes)) {
      format = &f;
      break;
    }
  }
  if (!format) {
    return Status(ErrorCode::kInternal, "the model returned bytes that are no " +
                                            std::string(FolderOf(kind)) +
                                            " format this gateway knows");
  }
  std::array<unsigned char, kRandomBytes> random;
  randombytes_buf(random.data(), random.size());
  std::array<char, kRandomBytes * 2 + 1> hex;
  sodium_bin2hex(hex.data(), hex.size(), random.data(), random.size());
  const std::string name = UtcStamp() + "_" + hex.data() + "." + std::string(format->extension);
  const std::string relative = std::string(format->folder) + "/" + name;
  const fs::path path = fs::path(dir_) / relative;
  const fs::path partial = path.string() + ".partial";  // never served: no known extension
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    std::error_code error;
    if (!out) {
      fs::remove(partial, error);
      return Status(ErrorCode::kInternal, "outputs_dir: cannot write " + relative);
    }
    fs::rename(partial, path, error);  // the file appears whole or not at all
    if (error) {
      fs::remove(partial, error);
      return Status(ErrorCode::kInternal, "outputs_dir: cannot write " + relative);
    }
  }
  bool sweep = false;
  {
    std::lock_guard lock(mutex_);
    written_ += static_cast<int64_t>(bytes.size());
    sweep = written_ > max_bytes_ / 8;  // a cheap bound on how far past the cap it can go
  }
  if (sweep) Sweep(std::chrono::system_clock::now());
  return "/outputs/" + relative;
}

std::optional<OutputFile> OutputStore::Find(std::string_view url_path) const {
  constexpr std::string_view kPrefix = "/outputs/";
  if (url_path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view rest = url_path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view folder = rest.substr(0, slash), name = rest.substr(slash + 1);
  const Format* format = NameFormat(folder, name);  // no '/', no "..": one of our names or none
  if (!format) return std::nullopt;
  const std::string path = dir_ + "/" + std::string(folder) + "/" + std::string(name);
  OutputFile file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (file.fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  file.size = static_cast<uint64_t>(st.st_size);
  file.content_type = format->content_type;
  return file;
}

size_t OutputStore::Sweep(std::chrono::system_clock::time_point now) {
  std::lock_guard sweeping(sweep_mutex_);
  struct Entry {
    fs::path path;
    fs::file_time_type modified;
    int64_t bytes;
  };
  std::vector<Entry> files;
  std::error_code error;
  for (std::string_view folder : kFolders) {
    for (fs::directory_iterator it(fs::path(dir_) / folder, error), end; !error && it != end;
         it.increment(error)) {
      if (!it->is_regular_file(error)) continue;
      files.push_back(
          {it->path(), it->last_write_time(error), static_cast<int64_t>(it->file_size(error))});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const Entry& a, const Entry& b) { return a.modified < b.modified; });
  int64_t total = 0;
  for (const Entry& f : files) total += f.bytes;
  const auto cutoff =
      fs::file_time_type::clock::now() - std::chrono::duration_cast<fs::file_time_type::duration>(
                                             std::chrono::system_clock::now() - now + retention_);
  size_t deleted = 0;
  for (const Entry& f : files) {
    if (f.modified >= cutoff && total <= max_bytes_) break;  // sorted: the rest are newer
    if (fs::remove(f.path, error)) {
      ++deleted;
      total -= f.bytes;
    }
  }
  {
    std::lock_guard lock(mutex_);
    written_ = 0;
  }
  if (deleted > 0) spdlog::info("outputs: deleted {} old files; {} bytes kept", deleted, total);
  return deleted;
}

}  // namespace botmodels
