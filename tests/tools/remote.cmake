# The remote-LLM tool (tests/python/test_remote_llm.py: streaming from llama-cpp-python's
# OpenAI-compatible server); included from tests/tools/CMakeLists.txt. Built into <build>/tests/.
# Must never define library targets.
add_executable(remote_chat ${CMAKE_CURRENT_LIST_DIR}/remote_chat.cpp)
target_link_libraries(remote_chat PRIVATE duet_dialog nlohmann_json::nlohmann_json
                      Threads::Threads duet_flags)
set_target_properties(remote_chat PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
