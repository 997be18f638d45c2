# Tools for the ASR peer checks (tests/python/test_asr_*.py: log-mel features and transcription
# against faster-whisper); included from tests/tools/CMakeLists.txt. Built into <build>/tests/.
# Must never define library targets.
add_executable(asr_dump ${CMAKE_CURRENT_LIST_DIR}/asr_dump.cpp)
target_link_libraries(asr_dump PRIVATE duet_models duet_audio duet_speech duet_flags)
set_target_properties(asr_dump PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)

