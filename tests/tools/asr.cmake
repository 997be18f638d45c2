# Tools for the ASR peer checks (tests/python/test_asr_*.py: log-mel features and transcription
# against faster-whisper); included from tests/tools/CMakeLists.txt. Built into <build>/tests/.
# Must never define library targets.
add_executable(asr_dump ${CMAKE_CURRENT_LIST_DIR}/asr_dump.cpp)
target_link_libraries(asr_dump PRIVATE duet_models duet_audio duet_flags)
set_target_properties(asr_dump PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)

set(DUET_PYTHON ${PROJECT_SOURCE_DIR}/.venv/bin/python)
if(EXISTS ${DUET_PYTHON})
  add_test(NAME python.asr
           COMMAND ${DUET_PYTHON} -m pytest -q ${PROJECT_SOURCE_DIR}/tests/python/test_asr_mel.py
                   ${PROJECT_SOURCE_DIR}/tests/python/test_asr_bad_audio.py
                   ${PROJECT_SOURCE_DIR}/tests/python/test_asr_accuracy.py
                   ${PROJECT_SOURCE_DIR}/tests/python/test_convert_whisper.py)
  set_tests_properties(python.asr PROPERTIES
                       LABELS "python" ENVIRONMENT "DUET_BUILD_DIR=${PROJECT_BINARY_DIR}")
endif()
