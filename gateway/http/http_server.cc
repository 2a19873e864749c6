#include "gateway/http/http_server.h"

#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "gateway/http/http_session.h"

namespace botmodels {
namespace {

using namespace http_detail;

// Accepting fails while the process is out of file descriptors: it is
// retried after this pause rather than in a busy loop.
constexpr std::chrono::milliseconds kAcceptPause{100};

void Accept(ServerCore& core) {
  core.acceptor->async_accept(net::make_strand(core.io), [&core](beast::error_code ec,
                                                                 Socket socket) {
    if (!core.acceptor->is_open()) return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      auto pause = std::make_shared<net::steady_timer>(core.acceptor->get_executor(), kAcceptPause);
      pause->async_wait([&core, pause](beast::error_code) { Accept(core); });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const bool refuse = core.open.load() >= core.options.max_connections;
    if (core.tls) {
      std::make_shared<Session<TlsStream>>(core, std::move(socket), refuse)->Run();
    } else {
      std::make_shared<Session<Socket>>(core, std::move(socket), refuse)->Run();
    }
    Accept(core);
  });
}

Status LoadTls(ServerCore& core) {
  const HttpServerOptions& o = core.options;
  if (o.tls_cert_file.empty()) return Status();
  try {
    core.tls.emplace(net::ssl::context::tls_server);
    core.tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                          net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                          net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    core.tls->use_certificate_chain_file(o.tls_cert_file);
    core.tls->use_private_key_file(o.tls_key_file, net::ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    core.tls.reset();
    return Status(ErrorCode::kInvalidRequest, "cannot load the TLS certificate " + o.tls_cert_file +
                                                  " or its key: " + e.what());
  }
  return Status();
}

unsigned IoThreads(const HttpServerOptions& options) {
  if (options.io_threads > 0) return options.io_threads;
  return std::max(1u, std::thread::hardware_concurrency() / 2);
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, HttpHandler& handler) {
  const unsigned threads = IoThreads(options);
  core_ = std::make_unique<ServerCore>(std::move(options), handler, threads);
}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start() {
  BOTMODELS_RETURN_IF_ERROR(LoadTls(*core_));
  const std::string& listen = core_->options.listen;
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:8085
  }
  const std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  try {
    tcp::resolver resolver(core_->io);
    const auto found = resolver.resolve(host, port, tcp::resolver::passive);
    const tcp::endpoint endpoint = found.begin()->endpoint();
    auto& acceptor = core_->acceptor.emplace(net::make_strand(core_->io));
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    core_->acceptor.reset();
    return Status(ErrorCode::kUnavailable, "cannot listen on " + listen + ": " + e.what());
  }
  const int bound = core_->acceptor->local_endpoint().port();
  core_->work.emplace(core_->io.get_executor());
  Accept(*core_);
  for (unsigned i = 0; i < core_->threads; ++i) {
    threads_.emplace_back([this] {
      while (true) {
        try {
          core_->io.run();
          return;
        } catch (const std::exception& e) {  // a handler's bug must not take the server down
          spdlog::error("http: a handler failed: {}", e.what());
        }
      }
    });
  }
  return bound;
}

void HttpServer::Stop() {
  if (threads_.empty()) return;
  std::promise<void> closed;
  net::post(core_->acceptor->get_executor(), [this, &closed] {
    beast::error_code ignored;
    core_->acceptor->close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(core_->mutex);
    core_->draining = true;
    for (const auto& [key, session] : core_->sessions) {
      if (auto s = session.lock()) live.push_back(std::move(s));
    }
  }
  for (const auto& session : live) session->Drain();
  live.clear();
  {
    std::unique_lock lock(core_->mutex);
    if (!core_->closed.wait_for(lock, core_->options.drain_timeout,
                                [this] { return core_->open.load() == 0; })) {
      spdlog::warn("http: {} connections still open after {} ms; closing them", core_->open.load(),
                   core_->options.drain_timeout.count());
    }
  }
  core_->work.reset();
  core_->io.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

boost::asio::io_context& HttpServer::io_context() { return core_->io; }

size_t HttpServer::connections() const { return core_->open.load(); }

unsigned HttpServer::io_threads() const { return core_->threads; }

}  // namespace botmodels
