# Tools for the text peer checks (tests/python/test_tokenizer_vs_llamacpp.py); included from
# tests/tools/CMakeLists.txt. Built into <build>/tests/. Must never define library targets.
add_executable(tokenize_dump ${CMAKE_CURRENT_LIST_DIR}/tokenize_dump.cpp)
target_link_libraries(tokenize_dump PRIVATE duet_text duet_runtime nlohmann_json::nlohmann_json duet_flags)
set_target_properties(tokenize_dump PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)

