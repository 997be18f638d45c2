# Tools for the Silero VAD peer check (tests/python/test_vad_vs_onnx.py: per-frame probabilities
# against onnxruntime); included from tests/tools/CMakeLists.txt. Built into <build>/tests/.
# Must never define library targets.
add_executable(vad_dump ${CMAKE_CURRENT_LIST_DIR}/vad_dump.cpp)
target_link_libraries(vad_dump PRIVATE duet_speech duet_models duet_audio duet_flags)
set_target_properties(vad_dump PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
