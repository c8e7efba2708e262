#pragma once
// What generated steps share while a generator runs: the container's
// listening sockets and what probing and crawling them found, the signals its
// main process catches, and the recipe of a step not yet given out.

#include <chrono>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "explore/generate/crawl.h"
#include "explore/generate/procfs.h"
#include "explore/generate/quiescence.h"
#include "explore/generate/target.h"

namespace sandmine::explore::generate {

using Clock = std::chrono::steady_clock;

/// A page the crawler fetched.
struct Page {
  std::string path;
  int status = 0;
  std::size_t size = 0;
  std::string content_type, last_modified, etag;
};

/// A request the crawler will make.
struct CrawlItem {
  std::string method = "GET";
  std::string path;
  std::string body;  ///< a form's fields, urlencoded
};

/// One listening socket and what was learnt about it.
struct Site {
  Listener listener;
  enum class Kind { Unknown, Http, Other } kind = Kind::Unknown;
  std::string banner;    ///< what a server that speaks first said
  std::string protocol;  ///< what a not-HTTP port speaks, when identified ("memcached", ...)
  std::deque<CrawlItem> frontier;
  std::set<std::string> queued;  ///< "GET /a" of every item ever queued
  int fetched = 0;
  std::vector<Page> pages;
  std::vector<Form> forms;
  /// Queues a request unless it was queued before.
  void enqueue(CrawlItem item);
};

/// What the generator has found so far.
struct Discovery {
  std::vector<Site> sites;
  std::vector<int> signals;
  Site* site(int port);
};

/// A step not yet given out: its body gets the deadline fixed when next()
/// hands it out, and returns what it did (for mine.log), or fails.
struct Recipe {
  std::string name;
  std::string part;
  std::function<StepOutcome(Target&, Clock::time_point deadline)> body;
};

/// Adds a line to a step's output.
void note(StepOutcome& outcome, const std::string& line);

/// Ends every generated step: waits until the container is quiescent (noting
/// it when the cap came first) and, when it has exited, restarts it (the
/// step fails when that fails).
StepOutcome settle(Target& target, StepOutcome outcome, const QuietRule& rule, Clock::time_point deadline);

/// "SIGHUP", or "signal 40" for one without a name.
std::string signal_text(int sig);

/// Milliseconds left until deadline (at least 1).
std::chrono::milliseconds left(Clock::time_point deadline);

}  // namespace sandmine::explore::generate
