# Third-party libraries, all from Debian's packages (see README "Dependencies" for why each one).
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
# Boost.Beast/Asio (header-only): `duet serve`'s HTTP and WebSocket server.
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SAMPLERATE REQUIRED IMPORTED_TARGET samplerate)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
# WebRTC's audio processing module (0.3): echo cancellation, noise suppression, gain control, VAD.
pkg_check_modules(WEBRTC_APM REQUIRED IMPORTED_TARGET webrtc-audio-processing)
# libcurl: the streaming HTTP client of the remote (OpenAI-compatible) LLM engine.
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# ALSA: the live microphone and speaker of `duet chat`.
pkg_check_modules(ALSA REQUIRED IMPORTED_TARGET alsa)
find_path(ESPEAK_NG_INCLUDE_DIR espeak-ng/speak_lib.h REQUIRED)
find_library(ESPEAK_NG_LIBRARY espeak-ng REQUIRED)
add_library(espeak_ng INTERFACE)
target_include_directories(espeak_ng INTERFACE ${ESPEAK_NG_INCLUDE_DIR})
target_link_libraries(espeak_ng INTERFACE ${ESPEAK_NG_LIBRARY})
if(DUET_TESTS)
  find_package(GTest REQUIRED)
endif()
if(DUET_BENCH)
  find_package(benchmark REQUIRED)
endif()
