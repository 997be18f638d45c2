// libcurl behind HttpStream (see http_stream.hpp): a multi handle polled in short slices so a
// raised CancelToken is noticed within milliseconds even while the server is silent, plus the
// progress callback so one noticed inside libcurl aborts at once. Must never let an exception
// cross a libcurl callback, and never install process-wide state beyond libcurl's own init.
#include "dialog/http_stream.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <mutex>

#include "core/error.hpp"

namespace duet::dialog {

namespace {

constexpr int kPollSliceMs = 5;           // how long one wait for network activity may last
constexpr long kConnectTimeoutMs = 10000;  // a server that does not accept in 10 s is down
constexpr long kStallSeconds = 120;        // no byte for this long: the server hung

// libcurl's process-wide initialisation, done once, before the first handle (libcurl requires
// it before any other thread uses the library).
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      fail("libcurl failed to initialise (curl_global_init); check the libcurl installation");
    }
  });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Everything a transfer's callbacks touch; lives on post()'s stack.
struct Transfer {
  CURL* easy = nullptr;
  const std::function<void(std::string_view, const HttpAnswer&)>* on_body = nullptr;
  const CancelToken* cancel = nullptr;
  HttpAnswer answer;
  bool answer_known = false;
  std::exception_ptr error;  // thrown by on_body; rethrown after the transfer
};

void read_answer_info(Transfer& t) {
  if (t.answer_known) return;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.answer.status);
  const char* type = nullptr;
  if (curl_easy_getinfo(t.easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) {
    t.answer.content_type = type;
    std::transform(t.answer.content_type.begin(), t.answer.content_type.end(),
                   t.answer.content_type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  t.answer_known = true;
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (t.cancel->cancelled() || t.error) return 0;  // 0 (of a non-empty piece) aborts
  try {
    read_answer_info(t);
    (*t.on_body)(std::string_view(data, bytes), t.answer);
  } catch (...) {
    t.error = std::current_exception();
    return 0;
  }
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto& t = *static_cast<const Transfer*>(user);
  return t.cancel->cancelled() ? 1 : 0;  // non-zero aborts with CURLE_ABORTED_BY_CALLBACK
}

// What to check for a failed transfer, by libcurl's error class.
const char* hint_for(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return "check that the server is running and listening at that address and port";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "check the host name in the URL";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return "check the URL: it must look like http://HOST:PORT/v1 (or https://...)";
    case CURLE_OPERATION_TIMEDOUT:
      return "the server accepted nothing or went silent; check that it is up and not overloaded";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
      return "check the server's TLS certificate, or use http:// for a local server";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return "the server dropped the connection; check its log";
    default:
      return "check the URL and that the server is reachable";
  }
}

}  // namespace

struct HttpStream::Handles {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  ~Handles() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
};

HttpStream::HttpStream() : handles_(std::make_unique<Handles>()) {
  init_curl_once();
  handles_->multi = curl_multi_init();
  handles_->easy = curl_easy_init();
  if (handles_->multi == nullptr || handles_->easy == nullptr) {
    fail("libcurl could not create a transfer handle (out of memory?)");
  }
}

HttpStream::~HttpStream() = default;

HttpAnswer HttpStream::post(const std::string& url, std::span<const std::string> headers,
                            std::string_view body,
                            const std::function<void(std::string_view, const HttpAnswer&)>& on_body,
                            const CancelToken& cancel) {
  CURL* easy = handles_->easy;
  CURLM* multi = handles_->multi;

  Slist header_list;
  auto append = [&header_list](const char* line) {
    curl_slist* grown = curl_slist_append(header_list.get(), line);
    if (grown == nullptr) fail("libcurl could not build the request headers (out of memory?)");
    (void)header_list.release();
    header_list.reset(grown);
  };
  for (const std::string& h : headers) append(h.c_str());
  append("Expect:");  // no 100-continue round trip before the body

  Transfer t;
  t.easy = easy;
  t.on_body = &on_body;
  t.cancel = &cancel;
  char error_text[CURL_ERROR_SIZE] = {};

  curl_easy_reset(easy);  // keeps the connection and DNS caches, clears the last call's options
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);

  if (CURLMcode mc = curl_multi_add_handle(multi, easy); mc != CURLM_OK) {
    fail("libcurl could not start the request: {}", curl_multi_strerror(mc));
  }
  // The easy handle leaves the multi handle whatever happens below; removing it mid-transfer
  // closes the connection, which is how a cancel closes the stream.
  struct Detach {
    CURLM* multi;
    CURL* easy;
    ~Detach() { curl_multi_remove_handle(multi, easy); }
  } detach{multi, easy};

  CURLcode result = CURLE_OK;
  bool done = false;
  while (!done) {
    int running = 0;
    if (CURLMcode mc = curl_multi_perform(multi, &running); mc != CURLM_OK) {
      fail("libcurl failed during the request: {}", curl_multi_strerror(mc));
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
        result = msg->data.result;
        done = true;
      }
    }
    if (done) break;
    if (cancel.cancelled()) {
      t.answer.cancelled = true;
      break;
    }
    if (CURLMcode mc = curl_multi_poll(multi, nullptr, 0, kPollSliceMs, nullptr); mc != CURLM_OK) {
      fail("libcurl failed while waiting for the answer: {}", curl_multi_strerror(mc));
    }
    if (cancel.cancelled()) {
      t.answer.cancelled = true;
      break;
    }
  }

  if (t.error) std::rethrow_exception(t.error);
  read_answer_info(t);
  if (cancel.cancelled()) {
    t.answer.cancelled = true;
    return t.answer;
  }
  if (result != CURLE_OK) {
    const std::string detail = error_text[0] != '\0' ? error_text : curl_easy_strerror(result);
    fail("no answer: {}; {}", detail, hint_for(result));
  }
  return t.answer;
}

}  // namespace duet::dialog
