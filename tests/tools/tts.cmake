# Tools and peer checks for the Piper voices (tests/python/test_tts_vs_piper.py); included from
# tests/tools/CMakeLists.txt. Built into <build>/tests/. Must never define library targets.
add_executable(tts_dump ${CMAKE_CURRENT_LIST_DIR}/tts_dump.cpp)
target_link_libraries(tts_dump PRIVATE duet_speech duet_models duet_text duet_runtime duet_flags)
set_target_properties(tts_dump PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)

