#pragma once
// Sending an input to a TCP service the way its client did: each message
// after the server has answered the one before.

#include <string>
#include <vector>

#include "explore/generate/capture.h"
#include "explore/generate/mutate.h"
#include "explore/generate/site.h"

namespace sandmine::explore::generate {

/// The inputs of captured connections to the given ports: each
/// connection's client messages, in the order the connections were made.
std::vector<TcpInput> inputs_from(const std::vector<TcpStream>& streams, const std::vector<int>& ports);

/// Sends input's messages in order on a fresh connection to listener: after
/// each, reads until the server has answered and then been silent for 30 ms
/// (at most a second per message); at the end closes its side and reads
/// what is left. Returns one line: what was sent and what came back.
std::string replay(Target& target, const Listener& listener, const TcpInput& input,
                   Clock::time_point deadline);

}  // namespace sandmine::explore::generate
