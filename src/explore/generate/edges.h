#pragma once
// Environment edges real servers meet, one step each: a client that resets
// its connection mid-response, the open-file limit reached, the writable
// layer full (ENOSPC).

#include <memory>
#include <vector>

#include "explore/generate/mutate.h"
#include "explore/generate/site.h"

namespace sandmine::explore::generate {

/// Drives every service once (what the open-file and ENOSPC edges put the
/// container through): on HTTP sites GET of the largest page, a PUT and a
/// POST with a 64 KiB body and each form; on others the first captured input
/// (or a bare connection when there is none). One line per service.
std::string drive_services(Target& target, const Discovery& discovery, const std::vector<TcpInput>& seeds,
                           Clock::time_point deadline);

/// "auto/edge/reset tcp:PORT": a client that resets its connection (RST)
/// once the first bytes of the answer came: a GET of the largest page on
/// HTTP, the first captured input on others.
Recipe reset_recipe(std::shared_ptr<Discovery> discovery, int port, std::vector<TcpInput> seeds);

/// "auto/edge/nofile": every process of the container gets its soft
/// open-file limit lowered to its lowest free descriptor (its next open,
/// socket or accept fails with EMFILE), the services are driven, and once
/// the container is quiescent the limits are put back.
Recipe nofile_recipe(std::shared_ptr<Discovery> discovery, std::vector<TcpInput> seeds, QuietRule rule);

/// "auto/edge/enospc": the writable layer (a tmpfs of its own) gets a size
/// limit equal to what it uses, so any write that needs a new block fails
/// with ENOSPC; the services are driven, and once the container is quiescent
/// the limit is put back. layer: Target::writable_layer().
Recipe enospc_recipe(std::shared_ptr<Discovery> discovery, std::vector<TcpInput> seeds, QuietRule rule);

}  // namespace sandmine::explore::generate
