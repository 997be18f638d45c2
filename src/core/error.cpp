// Anchor translation unit for duet::Error (keeps the vtable in one object file).
#include "core/error.hpp"
