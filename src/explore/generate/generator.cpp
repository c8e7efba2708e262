#include "explore/generate/generator.h"

#include <fmt/format.h>

#include <set>
#include <utility>

#include "explore/generate/edges.h"
#include "explore/generate/fuzz.h"
#include "explore/generate/http_steps.h"
#include "explore/generate/lifecycle.h"
#include "explore/generate/protocols.h"
#include "explore/generate/replay.h"
#include "explore/generate/site.h"

namespace sandmine::explore::generate {

std::string to_string(StopReason reason) {
  switch (reason) {
    case StopReason::Running:
      return "running";
    case StopReason::Budget:
      return "budget";
    case StopReason::Quiet:
      return "quiet";
    case StopReason::Exhausted:
      return "exhausted";
    case StopReason::Failed:
      return "failed";
  }
  return "?";
}

namespace {

using std::chrono::milliseconds;

// A part of the plan: gives recipes until it has none left.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::optional<Recipe> next() = 0;
  virtual void feedback(const Feedback&) {}
};

// A list of recipes, made when the stage is first reached (from what the
// steps before it found).
class ListStage final : public Stage {
 public:
  explicit ListStage(std::function<std::vector<Recipe>()> build) : build_(std::move(build)) {}
  std::optional<Recipe> next() override {
    if (build_) {
      recipes_ = build_();
      build_ = nullptr;
    }
    if (at_ >= recipes_.size()) return std::nullopt;
    return std::move(recipes_[at_++]);
  }

 private:
  std::function<std::vector<Recipe>()> build_;
  std::vector<Recipe> recipes_;
  std::size_t at_ = 0;
};

// The crawl of one HTTP site, a page a step, until its frontier is empty or
// it has given max_pages.
class CrawlStage final : public Stage {
 public:
  CrawlStage(std::shared_ptr<Discovery> d, int port, int max_pages)
      : d_(std::move(d)), port_(port), max_pages_(max_pages) {}
  std::optional<Recipe> next() override { return crawl_recipe(d_, port_, max_pages_); }

 private:
  std::shared_ptr<Discovery> d_;
  int port_;
  int max_pages_;
};

// Stages run one after the other: one part of the plan. Each part has its
// own quiet counter (steps of this part in a row that added nothing); an
// open-ended part (the fuzzer) drops out once it reaches the quiet limit,
// while a planned part (lifecycle, edges, an HTTP site, a protocol's
// sessions: each step a different behaviour, not another sample of the same
// one) runs to its end.
struct Stream {
  std::string part;
  std::vector<std::unique_ptr<Stage>> stages;
  bool open_ended = false;
  std::size_t at = 0;
  int given = 0, added = 0, quiet_run = 0;
  bool quiet = false;  // dropped out by the quiet rule
  // The next recipe and the stage that gave it.
  std::optional<Recipe> next(Stage*& from) {
    for (; at < stages.size(); ++at)
      if (auto r = stages[at]->next()) {
        from = stages[at].get();
        return r;
      }
    return std::nullopt;
  }
};

// Mutants of the captured inputs, kept or dropped by feedback; endless while
// there is a captured input.
class FuzzStage final : public Stage {
 public:
  FuzzStage(std::shared_ptr<Discovery> d, std::shared_ptr<std::vector<TcpInput>> seeds,
            std::uint64_t rng_seed)
      : d_(std::move(d)), seeds_(std::move(seeds)), rng_seed_(rng_seed) {}
  std::optional<Recipe> next() override {
    if (!fuzzer_) fuzzer_ = std::make_unique<Fuzzer>(*seeds_, rng_seed_);
    if (fuzzer_->empty()) return std::nullopt;
    FuzzCase c = fuzzer_->next();
    int port = c.input.port;
    std::string what = fmt::format("mutant {} ({})", c.number, mutation_name(c.mutation));
    return Recipe{.name = fmt::format("auto/tcp:{}/{}", port, what),
                  .part = "tcp",
                  .body = [d = d_, input = std::move(c.input)](Target& t, Clock::time_point deadline) {
                    StepOutcome o;
                    const Site* site = d->site(input.port);
                    note(o, replay(t, site->listener, input, deadline));
                    return o;
                  }};
  }
  void feedback(const Feedback& f) override {
    if (fuzzer_) fuzzer_->feedback(f.added());
  }
  const Fuzzer* fuzzer() const { return fuzzer_.get(); }

 private:
  std::shared_ptr<Discovery> d_;
  std::shared_ptr<std::vector<TcpInput>> seeds_;
  std::uint64_t rng_seed_;
  std::unique_ptr<Fuzzer> fuzzer_;
};

class Generator final : public StepSource {
 public:
  Generator(Target& target, GenerateOptions options)
      : target_(target),
        options_(std::move(options)),
        d_(std::make_shared<Discovery>()),
        seeds_(std::make_shared<std::vector<TcpInput>>()) {}

  std::optional<GeneratedStep> next() override {
    if (reason_ != StopReason::Running) return std::nullopt;
    auto now = Clock::now();
    if (!started_) {
      started_ = true;
      start_ = now;
    }
    const auto end = start_ + options_.budget;
    // A step needs room for at least one quiescence window.
    if (now + options_.quiescence.window + milliseconds(50) >= end)
      return stop(StopReason::Budget,
                  fmt::format("the budget of {:.1f} s is spent", seconds(options_.budget)));
    if (failed_) return stop(StopReason::Failed, "a generated step failed: " + failure_);
    const auto deadline = std::min(end, now + options_.step_timeout);
    // The probes first: every other part depends on what they find.
    if (!probed_) {
      if (!probes_) probes_ = probe_stage();
      if (auto r = probes_->next()) {
        given_from_ = probes_.get();
        return hand_out(std::move(*r), deadline);
      }
      probed_ = true;
      plan();
    }
    // Then the parts in turn, a step from each: the quiet rule stops only
    // once every part has had its say.
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      std::size_t at = (turn_ + i) % streams_.size();
      if (streams_[at].quiet) continue;
      if (auto r = streams_[at].next(given_from_)) {
        turn_ = at + 1;
        given_stream_ = &streams_[at];
        ++given_stream_->given;
        return hand_out(std::move(*r), deadline);
      }
    }
    for (const auto& st : streams_)
      if (st.quiet)
        return stop(StopReason::Quiet,
                    fmt::format("{} generated steps of {} in a row added nothing, the other "
                                "parts are done",
                                options_.quiet, st.part));
    return stop(StopReason::Exhausted, "nothing more to generate");
  }

  // Only the part that gave the step hears about it: its keep/drop decision
  // (the fuzzer's) and its quiet counter rest on its own steps alone.
  void feedback(const Feedback& f) override {
    if (given_from_) given_from_->feedback(f);
    given_from_ = nullptr;
    if (Stream* st = std::exchange(given_stream_, nullptr)) {
      st->quiet_run = f.added() ? 0 : st->quiet_run + 1;
      if (f.added()) ++st->added;
      if (st->open_ended && options_.quiet > 0 && st->quiet_run >= options_.quiet) st->quiet = true;
    }
  }

  StopReason stop_reason() const override { return reason_; }
  std::string stop_detail() const override { return detail_; }

 private:
  static double seconds(milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

  std::optional<GeneratedStep> stop(StopReason reason, const std::string& why) {
    reason_ = reason;
    auto elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    detail_ = fmt::format("{} after {} generated steps in {:.1f} s", why, given_, started_ ? elapsed : 0.0);
    std::string parts;
    for (const auto& st : streams_)
      if (st.given > 0)
        parts += fmt::format("{}{} {} ({} added)", parts.empty() ? "" : ", ", st.part, st.given, st.added);
    if (!parts.empty()) detail_ += "; steps by part: " + parts;
    if (fuzz_ && fuzz_->fuzzer())
      detail_ += fmt::format(" (fuzzer: {} seeds, {} mutants kept, {} dropped)", fuzz_->fuzzer()->seeds(),
                             fuzz_->fuzzer()->kept(), fuzz_->fuzzer()->dropped());
    return std::nullopt;
  }

  GeneratedStep hand_out(Recipe r, Clock::time_point deadline) {
    ++given_;
    std::string name = r.name;
    for (int n = 2; !names_.insert(name).second; ++n) name = r.name + " #" + std::to_string(n);
    return {.name = name, .part = r.part, .body = [this, body = std::move(r.body), deadline](Target& t) {
              StepOutcome o = settle(t, body(t, deadline), options_.quiescence, deadline);
              if (!o.ok && !failed_) {
                failed_ = true;
                failure_ = o.failure;
              }
              return o;
            }};
  }

  // The listening sockets (read when first needed), then a probe of each.
  std::unique_ptr<Stage> probe_stage() {
    return std::make_unique<ListStage>([this] {
      std::vector<Recipe> out;
      auto listeners = read_listeners(target_.main_pid());
      if (!listeners) return out;
      std::vector<int> ports;
      for (const auto& l : *listeners) {
        d_->sites.push_back({.listener = l});
        ports.push_back(l.port);
      }
      *seeds_ = inputs_from(options_.traffic, ports);
      if (options_.http || options_.tcp || options_.edges)
        for (int p : ports) out.push_back(probe_recipe(d_, p));
      return out;
    });
  }

  // The parts, once the probes have run: lifecycle, edges, each HTTP site
  // (its crawl, then its request shapes), the fuzzer (endless).
  void plan() {
    auto d = d_;
    Target* t = &target_;
    auto add = [&](std::string part, std::vector<std::unique_ptr<Stage>> stages, bool open_ended = false) {
      streams_.push_back(
          Stream{.part = std::move(part), .stages = std::move(stages), .open_ended = open_ended});
    };
    // A protocol identified on a port: what its real clients do, a session a
    // step, and the sessions are seeds for the fuzzer and the edges.
    if (options_.tcp)
      for (const auto& site : d->sites)
        if (!site.protocol.empty())
          for (const auto& s : protocol_sessions())
            if (s.protocol == site.protocol) seeds_->push_back(s.input(site.listener.port));
    auto one = [](std::unique_ptr<Stage> s) {
      std::vector<std::unique_ptr<Stage>> v;
      v.push_back(std::move(s));
      return v;
    };
    if (options_.lifecycle)
      add("lifecycle", one(std::make_unique<ListStage>([this, t] {
            std::vector<Recipe> out;
            auto caught = read_caught_signals(t->main_pid()).value_or(std::vector<int>{});
            auto to_send = signals_to_send(caught, t->stop_signal());
            for (int sig : to_send) out.push_back(signal_recipe(sig));
            if (auto sig = signal_from_inside(to_send)) out.push_back(signal_from_inside_recipe(*sig));
            out.push_back(pause_recipe(options_.pause_for));
            if (!options_.health_check.empty()) out.push_back(health_recipe(options_.health_check));
            out.push_back(restart_recipe());
            // Last: its crash handler ends the process's useful life.
            if (auto fault = fault_signal_to_send(caught, t->stop_signal()))
              out.push_back(fault_signal_recipe(*fault, options_.quiescence));
            return out;
          })));
    if (options_.edges)
      add("edges", one(std::make_unique<ListStage>([this, d, t] {
            std::vector<Recipe> out;
            for (const auto& site : d->sites) out.push_back(reset_recipe(d, site.listener.port, *seeds_));
            out.push_back(nofile_recipe(d, *seeds_, options_.quiescence));
            if (!t->writable_layer().empty()) out.push_back(enospc_recipe(d, *seeds_, options_.quiescence));
            return out;
          })));
    if (options_.http)
      for (const auto& site : d->sites) {
        if (site.kind != Site::Kind::Http) continue;
        int port = site.listener.port;
        std::vector<std::unique_ptr<Stage>> stages;
        stages.push_back(std::make_unique<CrawlStage>(d, port, options_.max_pages));
        stages.push_back(std::make_unique<ListStage>([d, port] { return shape_recipes(d, port); }));
        add(fmt::format("http:{}", port), std::move(stages));
      }
    if (options_.tcp)
      for (const auto& site : d->sites) {
        if (site.protocol.empty()) continue;
        int port = site.listener.port;
        std::string protocol = site.protocol;
        add(fmt::format("{}:{}", protocol, port), one(std::make_unique<ListStage>([d, port, protocol] {
              return session_recipes(d, port, protocol);
            })));
      }
    if (options_.tcp) {
      auto fuzz = std::make_unique<FuzzStage>(d, seeds_, options_.seed);
      fuzz_ = fuzz.get();
      add("fuzzer", one(std::move(fuzz)), true);
    }
  }

  Target& target_;
  GenerateOptions options_;
  std::shared_ptr<Discovery> d_;
  std::shared_ptr<std::vector<TcpInput>> seeds_;
  std::unique_ptr<Stage> probes_;
  bool probed_ = false;
  std::vector<Stream> streams_;
  std::size_t turn_ = 0;
  Stage* given_from_ = nullptr;
  Stream* given_stream_ = nullptr;
  FuzzStage* fuzz_ = nullptr;
  bool started_ = false;
  Clock::time_point start_;
  int given_ = 0;
  std::set<std::string> names_;
  bool failed_ = false;
  std::string failure_;
  StopReason reason_ = StopReason::Running;
  std::string detail_;
};

}  // namespace

std::unique_ptr<StepSource> make_generator(Target& target, GenerateOptions options) {
  return std::make_unique<Generator>(target, std::move(options));
}

}  // namespace sandmine::explore::generate
