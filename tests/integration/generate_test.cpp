// Generated exploration against test servers written for it, each in a
// network namespace of its own and in a recorder's target: a small run loop
// (as the miner's) snapshots the recorder after every generated step and
// feeds back what the step added.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "explore/generate/capture.h"
#include "explore/generate/container_target.h"
#include "explore/generate/generator.h"
#include "explore/generate/process_target.h"
#include "explore/generate/procfs.h"
#include "support/run.h"
#include "support/trace_run.h"
#include "sys/net.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::test {
namespace {

using explore::generate::Feedback;
using explore::generate::GenerateOptions;
using explore::generate::ProcessTarget;
using explore::generate::StepSource;
using explore::generate::StopReason;
using explore::generate::Target;
using std::chrono::milliseconds;
using Names = std::set<std::string>;
using Clock = std::chrono::steady_clock;

std::string key_name(const trace::SyscallKey& key) {
  return key.arch + ":" + syscalls::name_of(key.arch, key.nr).value_or("#" + std::to_string(key.nr));
}

// One generated step as the run saw it.
struct Ran {
  std::string name;
  explore::StepOutcome outcome;
  Names used;   // syscalls whose count grew in it
  Names added;  // syscalls first seen in it
};

// A recorder target and a network namespace for one test server.
class Harness {
 public:
  explicit Harness(const std::string& name) {
    auto rec = trace::EbpfRecorder::open();
    if (!rec) throw std::runtime_error(rec.error().message);
    rec_ = std::move(*rec);
    auto t = rec_->add_target(name);
    if (!t) throw std::runtime_error(t.error().message);
    target_ = *t;
    auto ns = sys::new_netns();
    if (!ns) throw std::runtime_error(ns.error().message);
    netns_ = std::move(*ns);
  }
  ~Harness() {
    server_.reset();
    (void)rec_->remove_target(target_);
  }

  int netns() const { return netns_.get(); }
  trace::EbpfRecorder& recorder() { return *rec_; }
  trace::Target& target() { return *target_; }

  // Starts argv in the namespace and target; ready when ready() holds (polled).
  ProcessTarget& start(const std::vector<std::string>& argv, std::function<bool(Target&)> ready) {
    auto t = ProcessTarget::start({.argv = argv,
                                   .cgroup_dir = target_->cgroup.path(),
                                   .netns_fd = netns_.get(),
                                   .ready = [ready](Target& t) -> Status {
                                     if (wait_until([&] { return ready(t); })) return {};
                                     return Error{"the test server never became ready"};
                                   },
                                   .syscalls = [this]() -> std::optional<std::uint64_t> {
                                     auto c = rec_->snapshot(*target_);
                                     if (!c) return std::nullopt;
                                     return explore::generate::total_syscalls(*c);
                                   }});
    if (!t) throw std::runtime_error(t.error().message);
    server_ = std::move(*t);
    return *server_;
  }

  // The run loop: next, body, snapshot, feedback, until the source stops.
  std::vector<Ran> drive(StepSource& source, Target& target) {
    std::vector<Ran> out;
    auto counts = rec_->snapshot(*target_);
    if (!counts) throw std::runtime_error(counts.error().message);
    std::set<trace::SyscallKey> seen;
    for (const auto& [k, v] : counts->armed) seen.insert(k);
    trace::Tallies last = counts->armed;
    started_ = Clock::now();
    while (auto step = source.next()) {
      Ran r{.name = step->name, .outcome = step->body(target)};
      auto now = rec_->snapshot(*target_);
      if (!now) throw std::runtime_error(now.error().message);
      Feedback fb;
      for (const auto& [k, v] : now->armed) {
        auto before = last.find(k);
        if (before == last.end() || v.count > before->second.count) r.used.insert(key_name(k));
        if (seen.insert(k).second) {
          r.added.insert(key_name(k));
          fb.new_syscalls.push_back(key_name(k));
        }
      }
      last = now->armed;
      source.feedback(fb);
      out.push_back(std::move(r));
    }
    ended_ = Clock::now();
    return out;
  }
  Clock::duration elapsed() const { return ended_ - started_; }

 private:
  std::unique_ptr<trace::EbpfRecorder> rec_;
  trace::Target* target_ = nullptr;
  sys::UniqueFd netns_;
  std::unique_ptr<ProcessTarget> server_;
  Clock::time_point started_, ended_;
};

bool accepts(Target& t, int port) {
  return sys::connect_in_netns(t.netns_fd(), port, milliseconds(200)).ok();
}

// The steps that used name, and the first that added it.
Names steps_using(const std::vector<Ran>& ran, const std::string& name) {
  Names out;
  for (const auto& r : ran)
    if (r.used.count(name)) out.insert(r.name);
  return out;
}
std::string first_step(const std::vector<Ran>& ran, const std::string& name) {
  for (const auto& r : ran)
    if (r.added.count(name)) return r.name;
  return "(never)";
}
std::vector<std::string> names_of(const std::vector<Ran>& ran) {
  std::vector<std::string> out;
  for (const auto& r : ran) out.push_back(r.name);
  return out;
}

class Generate : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "recording needs root (CI runs as root)";
  }
  void TearDown() override {
    if (!is_root()) return;
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
  }
};

GenerateOptions only(bool lifecycle, bool http, bool tcp, bool edges) {
  GenerateOptions o;
  o.lifecycle = lifecycle;
  o.http = http;
  o.tcp = tcp;
  o.edges = edges;
  o.quiet = 0;
  return o;
}

TEST_F(Generate, SignalHandlersSyscallsBelongToTheirSignalsStep) {
  Harness h("signals");
  auto& server = h.start({prog("signal_server")}, [](Target& t) {
    return explore::generate::read_caught_signals(t.main_pid()).value_or(std::vector<int>{}) ==
           std::vector<int>{SIGHUP, SIGUSR1, SIGTERM};
  });
  auto source = explore::generate::make_generator(server, only(true, false, false, false));
  auto ran = h.drive(*source, server);
  EXPECT_EQ(names_of(ran), (std::vector<std::string>{"auto/signal/SIGHUP", "auto/signal/SIGUSR1",
                                                     "auto/exec/kill -s HUP", "auto/pause", "auto/restart"}));
  for (const auto& r : ran) EXPECT_TRUE(r.outcome.ok) << r.name << ": " << r.outcome.failure;
  EXPECT_EQ(source->stop_reason(), StopReason::Exhausted) << source->stop_detail();
  ASSERT_EQ(ran.size(), 5u);
  // Each handler's marker in its own signal's step and nowhere else; the
  // first handled signal also brings rt_sigreturn.
  EXPECT_EQ(ran[0].added, (Names{"x86_64:rt_sigreturn", "x86_64:times"}));
  EXPECT_EQ(ran[1].added, (Names{"x86_64:sysinfo"}));
  // The shell in the target's cgroup signals the server itself: kill(2) made
  // inside, and SIGHUP's handler again; the shell's exit is the first exit.
  EXPECT_EQ(ran[2].added.count("x86_64:kill"), 1u) << ran[2].outcome.output;
  EXPECT_EQ(ran[2].added.count("x86_64:exit_group"), 1u);
  EXPECT_EQ(ran[2].used.count("x86_64:times"), 1u);
  EXPECT_EQ(ran[3].added, Names{});
  EXPECT_EQ(ran[4].added, Names{});
  EXPECT_EQ(steps_using(ran, "x86_64:times"), (Names{"auto/signal/SIGHUP", "auto/exec/kill -s HUP"}));
  EXPECT_EQ(steps_using(ran, "x86_64:sysinfo"), Names{"auto/signal/SIGUSR1"});
}

TEST_F(Generate, RequestShapesReachThePathsOnlyTheyReach) {
  Harness h("http");
  auto& server = h.start({prog("http_server"), "8080"}, [](Target& t) { return accepts(t, 8080); });
  auto options = only(false, true, false, false);
  auto source = explore::generate::make_generator(server, options);
  auto ran = h.drive(*source, server);
  EXPECT_EQ(source->stop_reason(), StopReason::Exhausted) << source->stop_detail();
  for (const auto& r : ran) EXPECT_TRUE(r.outcome.ok) << r.name << ": " << r.outcome.failure;
  auto names = names_of(ran);
  ASSERT_GE(names.size(), 17u);
  // The probe, then the crawl breadth first: the paths no page links
  // (data/http_paths.csv), links, a listed directory, the form.
  EXPECT_EQ(
      std::vector<std::string>(names.begin(), names.begin() + 17),
      (std::vector<std::string>{
          "auto/tcp:8080/probe", "auto/http:8080/GET /", "auto/http:8080/GET /robots.txt",
          "auto/http:8080/GET /favicon.ico", "auto/http:8080/GET /server-status",
          "auto/http:8080/GET /server-status?auto", "auto/http:8080/GET /server-info",
          "auto/http:8080/GET /status", "auto/http:8080/GET /nginx_status", "auto/http:8080/GET /metrics",
          "auto/http:8080/GET /health", "auto/http:8080/GET /.well-known/security.txt",
          "auto/http:8080/GET /a.html", "auto/http:8080/GET /dir/", "auto/http:8080/form POST /submit",
          "auto/http:8080/GET /deep/secret.html", "auto/http:8080/GET /dir/file.txt"}));
  EXPECT_EQ(steps_using(ran, "x86_64:getpgid"), Names{"auto/http:8080/GET /deep/secret.html"});
  EXPECT_EQ(steps_using(ran, "x86_64:sched_get_priority_max"), Names{"auto/http:8080/form POST /submit"});
  EXPECT_EQ(steps_using(ran, "x86_64:getsid"), Names{"auto/http:8080/method PROPFIND /dir/"});
  EXPECT_EQ(first_step(ran, "x86_64:times"), "auto/http:8080/range bytes=0-9");
  EXPECT_EQ(steps_using(ran, "x86_64:times"),
            (Names{"auto/http:8080/range bytes=0-9", "auto/http:8080/range bytes=0-0,2-3 (multipart)",
                   "auto/http:8080/range bytes=-5 (suffix)", "auto/http:8080/range unsatisfiable",
                   "auto/http:8080/range If-Range"}));
  EXPECT_EQ(first_step(ran, "x86_64:sysinfo"), "auto/http:8080/chunked body");
  EXPECT_EQ(steps_using(ran, "x86_64:sysinfo"),
            (Names{"auto/http:8080/chunked body", "auto/http:8080/malformed Content-Length and chunked",
                   "auto/http:8080/malformed chunk size", "auto/http:8080/upload chunked"}));
  // Every shape answered as this server answers it.
  std::map<std::string, std::string> answered;
  for (const auto& r : ran) answered[r.name] = r.outcome.output;
  EXPECT_EQ(answered["auto/http:8080/method PROPFIND /dir/"], "HTTP 207 Multi-Status (53 bytes)\n");
  EXPECT_EQ(answered["auto/http:8080/pipelining 3 requests"],
            "HTTP 200 OK (4096 bytes); HTTP 200 OK (164 bytes); HTTP 200 OK (4096 bytes)\n");
  EXPECT_EQ(answered["auto/http:8080/64 concurrent connections"], "64 connections, 64 answered\n");
  EXPECT_EQ(answered["auto/http:8080/HTTP/0.9"], "HTTP 400 Bad Request (4 bytes)\n");
}

// The line server's traffic as a client of the spec would send it.
std::vector<explore::generate::TcpStream> capture_a_session(Harness& h, int port) {
  auto capture = explore::generate::TcpCapture::start(h.netns(), {port});
  if (!capture) throw std::runtime_error(capture.error().message);
  {
    auto fd = sys::connect_in_netns(h.netns(), port, milliseconds(2000));
    if (!fd) throw std::runtime_error(fd.error().message);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    for (std::string m : {"HELLO\n", "PUT 5\nhello", "QUIT\n"}) {
      if (!sys::send_all(fd->get(), m, deadline)) throw std::runtime_error("cannot send");
      auto got = sys::receive(fd->get(), 100, milliseconds(2000));
      if (!got || got->data.empty()) throw std::runtime_error("no answer to " + m);
    }
  }
  auto streams = (*capture)->stop();
  if (!streams) throw std::runtime_error(streams.error().message);
  return *streams;
}

TEST_F(Generate, ACaptureStoppedAtOnceEndsAtOnceWithNothing) {
  auto ns = sys::new_netns();
  ASSERT_TRUE(ns.ok()) << ns.error().message;
  for (int i = 0; i < 20; ++i) {
    auto t = Clock::now();
    auto capture = explore::generate::TcpCapture::start(ns->get(), {7002});
    ASSERT_TRUE(capture.ok()) << capture.error().message;
    auto streams = (*capture)->stop();
    ASSERT_TRUE(streams.ok()) << streams.error().message;
    EXPECT_EQ(streams->size(), 0u);
    EXPECT_LT(Clock::now() - t, milliseconds(1000));
  }
}

TEST_F(Generate, CaptureGivesTheClientsMessagesAndTheFuzzerKeepsOnlyWhatAddedASyscall) {
  Harness h("fuzz");
  auto& server = h.start({prog("line_server"), "7000"}, [](Target& t) { return accepts(t, 7000); });
  auto streams = capture_a_session(h, 7000);
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].server_port, 7000);
  using explore::generate::TcpMessage;
  EXPECT_EQ(streams[0].messages, (std::vector<TcpMessage>{{true, "HELLO\n"},
                                                          {false, "HI\n"},
                                                          {true, "PUT 5\nhello"},
                                                          {false, "OK\n"},
                                                          {true, "QUIT\n"},
                                                          {false, "BYE\n"}}));

  auto options = only(false, false, true, false);
  options.traffic = streams;
  options.quiet = 25;
  options.seed = 1;
  auto source = explore::generate::make_generator(server, options);
  auto ran = h.drive(*source, server);
  EXPECT_EQ(source->stop_reason(), StopReason::Quiet) << source->stop_detail();
  ASSERT_GE(ran.size(), 3u);
  EXPECT_EQ(ran[0].name, "auto/tcp:7000/probe");
  EXPECT_EQ(ran[0].used.count("x86_64:sysinfo"), 0u);
  EXPECT_TRUE(ran[1].name.starts_with("auto/tcp:7000/mutant 1 (")) << ran[1].name;
  EXPECT_TRUE(ran[1].outcome.output.starts_with("mutant 1 (")) << ran[1].outcome.output;
  // Only a mutant with a length past 64 KiB reaches sysinfo.
  std::string found = first_step(ran, "x86_64:sysinfo");
  EXPECT_TRUE(std::regex_match(found, std::regex(R"(auto/tcp:7000/mutant \d+ \(.*\))"))) << found;
  // Kept exactly the mutants that added a syscall, dropped the others.
  std::size_t added = 0, nothing = 0;
  for (std::size_t i = 1; i < ran.size(); ++i) (ran[i].added.empty() ? nothing : added) += 1;
  EXPECT_GE(added, 1u);
  EXPECT_GE(nothing, 25u);
  EXPECT_NE(source->stop_detail().find("(fuzzer: 1 seeds, " + std::to_string(added) + " mutants kept, " +
                                       std::to_string(nothing) + " dropped)"),
            std::string::npos)
      << source->stop_detail();
  // The last 25 added nothing: that is why it stopped.
  for (std::size_t i = ran.size() - 25; i < ran.size(); ++i) EXPECT_EQ(ran[i].added, Names{}) << ran[i].name;
}

TEST_F(Generate, TheFuzzersKeepOrDropAndQuietCountRestOnItsOwnSteps) {
  Harness h("fuzzparts");
  auto& server = h.start({prog("line_server"), "7003"}, [](Target& t) { return accepts(t, 7003); });
  auto options = only(true, false, true, true);  // lifecycle and edges take turns with the fuzzer
  options.traffic = capture_a_session(h, 7003);
  options.quiet = 20;
  options.seed = 1;
  auto source = explore::generate::make_generator(server, options);
  auto ran = h.drive(*source, server);
  EXPECT_EQ(source->stop_reason(), StopReason::Quiet) << source->stop_detail();
  EXPECT_TRUE(source->stop_detail().starts_with("20 generated steps of fuzzer in a row added nothing"))
      << source->stop_detail();
  std::vector<const Ran*> mutants;
  std::size_t others_after_first_mutant = 0;
  for (const auto& r : ran) {
    if (r.name.find("/mutant ") != std::string::npos)
      mutants.push_back(&r);
    else if (!mutants.empty())
      ++others_after_first_mutant;
  }
  // The parts took turns: lifecycle and edge steps came between the mutants.
  EXPECT_GE(others_after_first_mutant, 2u);
  ASSERT_GE(mutants.size(), 21u);
  // Only a mutant with a length past 64 KiB reaches sysinfo: it was kept;
  // every mutant that added nothing was dropped.
  std::string found = first_step(ran, "x86_64:sysinfo");
  EXPECT_TRUE(std::regex_match(found, std::regex(R"(auto/tcp:7003/mutant \d+ \(.*\))"))) << found;
  std::size_t added = 0;
  for (const Ran* m : mutants) added += m->added.empty() ? 0 : 1;
  EXPECT_GE(added, 1u);
  EXPECT_NE(source->stop_detail().find("(fuzzer: 1 seeds, " + std::to_string(added) + " mutants kept, " +
                                       std::to_string(mutants.size() - added) + " dropped)"),
            std::string::npos)
      << source->stop_detail();
  // The fuzzer's own last 20 added nothing, whatever the other parts did.
  for (std::size_t i = mutants.size() - 20; i < mutants.size(); ++i)
    EXPECT_EQ(mutants[i]->added, Names{}) << mutants[i]->name;
  EXPECT_FALSE(mutants[mutants.size() - 21]->added.empty()) << mutants[mutants.size() - 21]->name;
}

TEST_F(Generate, TheTimeBudgetIsKept) {
  Harness h("budget");
  auto& server = h.start({prog("line_server"), "7001"}, [](Target& t) { return accepts(t, 7001); });
  auto options = only(false, false, true, false);
  options.traffic = capture_a_session(h, 7001);
  options.budget = milliseconds(3000);
  auto source = explore::generate::make_generator(server, options);
  auto ran = h.drive(*source, server);
  EXPECT_EQ(source->stop_reason(), StopReason::Budget) << source->stop_detail();
  EXPECT_GE(ran.size(), 5u);
  // From the first next() to the end of the last step (snapshots included).
  EXPECT_LE(h.elapsed(), milliseconds(3000 + 200));
  EXPECT_GE(h.elapsed(), milliseconds(3000 - 500));
  EXPECT_TRUE(source->stop_detail().starts_with("the budget of 3.0 s is spent after " +
                                                std::to_string(ran.size()) + " generated steps"))
      << source->stop_detail();
}

}  // namespace
}  // namespace sandmine::test
