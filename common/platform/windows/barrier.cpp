#include "stella/common/platform/barrier.hpp"

namespace stella::platform {

// Windows has no cross-process equivalent (FlushProcessWriteBuffers covers one process):
// writers fence, and readers rely on that.
bool register_for_remote_barriers() noexcept { return false; }
bool remote_barrier() noexcept { return false; }

}  // namespace stella::platform
