# LLM peer-check tools (tests/python/test_llm_vs_llamacpp.py).
add_executable(llm_logits llm_logits.cpp)
target_link_libraries(llm_logits PRIVATE duet_models duet_flags)
set_target_properties(llm_logits PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
add_executable(llm_greedy llm_greedy.cpp)
target_link_libraries(llm_greedy PRIVATE duet_models nlohmann_json::nlohmann_json duet_flags)
set_target_properties(llm_greedy PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
