#pragma once
// Protocol-aware steps on TCP services that are not HTTP: identify what a
// listening port speaks from its greeting or its reply to a harmless probe
// (data/protocol_probes.csv), then replay what real clients of that server
// send, one session a step (data/protocol_sessions.csv). The sessions are
// also the fuzzer's seeds, so a server without spec steps of its own still
// gets its protocol mutated. docs/explore-auto.md.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "explore/generate/mutate.h"
#include "explore/generate/site.h"
#include "util/result.h"

namespace sandmine::explore::generate {

/// One way to recognise a protocol: bytes to send (empty: the server speaks
/// first) and the reply that identifies it.
struct ProtocolProbe {
  std::string protocol;
  std::string probe;
  std::vector<int> reply;  ///< bytes; -1 matches any byte
  bool whole = false;      ///< the reply must be exactly this (else: start with it)
  /// Whether got identifies the protocol.
  bool matches(std::string_view got) const;
};

/// One message of a session: bytes to send, or a pause with the connection open.
struct SessionMessage {
  std::string bytes;
  std::chrono::milliseconds idle{0};  ///< > 0: wait this long instead of sending
};

/// What a real client of a protocol does in one connection.
struct ProtocolSession {
  std::string protocol;
  std::string name;  ///< "storage", "vacuum and analyze", ...
  std::vector<SessionMessage> messages;
  /// The messages as a fuzzer input to port (pauses left out).
  TcpInput input(int port) const;
};

/// C-style escapes of the data tables: \r \n \t \0 \\ \xNN; with
/// any_byte, \? is -1 (any byte). Fails on an unknown or cut escape.
Result<std::vector<int>> unescape(std::string_view text, bool any_byte = false);

/// The probes of a table in data/protocol_probes.csv's format.
Result<std::vector<ProtocolProbe>> parse_probes(std::string_view csv, const std::string& source);
/// The sessions of a table in data/protocol_sessions.csv's format, in the
/// order of their first row. Kinds: send (the text, unescaped), resp (words
/// as a RESP array), pg-startup (key=value pairs as a StartupMessage),
/// pg-query (a simple Query), pg-copy (CopyData rows, then CopyDone), idle
/// (milliseconds). In a text, {i} is the row's repetition (0..repeat-1) and
/// {bytes:N} N bytes of letters; a row repeated is one message.
Result<std::vector<ProtocolSession>> parse_sessions(std::string_view csv, const std::string& source);

/// The embedded tables.
const std::vector<ProtocolProbe>& protocol_probes();
const std::vector<ProtocolSession>& protocol_sessions();

/// The protocol a not-HTTP port speaks: its banner (what it said first)
/// against the probes that need no bytes, then each other probe on a fresh
/// connection. Empty when none matched. tried: one line per probe.
std::string identify_protocol(Target& target, const Listener& listener, const std::string& banner,
                              Clock::time_point deadline, std::string& tried);

/// Runs session on a fresh connection: each message once the server has
/// answered the one before (PostgreSQL: its ReadyForQuery or CopyInResponse;
/// others: a first byte within 2 s, then 50 ms of silence). A PostgreSQL
/// server that asks for a password or refuses the startup ends the session.
/// Returns one line on what happened.
std::string run_session(Target& target, const Listener& listener, const ProtocolSession& session,
                        Clock::time_point deadline);

/// "auto/tcp:PORT/PROTOCOL SESSION" steps, one per session of protocol.
std::vector<Recipe> session_recipes(std::shared_ptr<Discovery> discovery, int port,
                                    const std::string& protocol);

}  // namespace sandmine::explore::generate
