# Compiler flags shared by every Duet target: warnings, optional -Werror and sanitizers.
add_library(duet_flags INTERFACE)
target_compile_options(duet_flags INTERFACE -Wall -Wextra -Wshadow=local -Wno-missing-field-initializers)
if(DUET_WERROR)
  target_compile_options(duet_flags INTERFACE -Werror)
endif()
if(DUET_SANITIZE)
  target_compile_options(duet_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                              -fno-sanitize-recover=undefined)
  target_link_options(duet_flags INTERFACE -fsanitize=address,undefined)
endif()
# Kernels choose AVX2/FMA at run time per function; the rest of the code stays portable x86-64.
target_compile_definitions(duet_flags INTERFACE DUET_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
