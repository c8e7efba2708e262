// The auto step of a spec: defaults, every field, and the errors that name
// file, line and field.
#include <gtest/gtest.h>

#include "spec/spec.h"
#include "support/spec_errors.h"

namespace sandmine::spec {
namespace {

using std::chrono::milliseconds;
using test::error_of;

constexpr std::string_view kHead = "name: a\nimage: {busybox: {}}\ncommand: [sh]\n";

TEST(SpecAuto, EmptyMappingGivesTheDefaults) {
  auto r = parse_spec(std::string(kHead) + "explore:\n  - auto: {}\n", "a.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->explore.size(), 1u);
  const Step& s = r->explore[0];
  EXPECT_EQ(s.kind, Step::Kind::Auto);
  EXPECT_EQ(s.name, "explore[0]");
  EXPECT_EQ(s.generate.budget, milliseconds(120000));
  EXPECT_EQ(s.generate.quiet, 40);
  EXPECT_EQ(s.generate.step_timeout, milliseconds(10000));
  EXPECT_EQ(s.generate.parts, (std::vector<std::string>{"lifecycle", "http", "tcp", "edges"}));
  EXPECT_EQ(s.generate.max_pages, 30);
  EXPECT_EQ(s.generate.seed, 1);
  EXPECT_EQ(s.generate.health, std::vector<std::string>{});
}

TEST(SpecAuto, EveryFieldIsRead) {
  auto r = parse_spec(std::string(kHead) +
                          "explore:\n"
                          "  - run: 'true'\n"
                          "  - name: generated\n"
                          "    auto:\n"
                          "      budget: 90s\n"
                          "      quiet: 0\n"
                          "      step_timeout: 2s\n"
                          "      parts: [http, tcp]\n"
                          "      max_pages: 5\n"
                          "      seed: 42\n"
                          "      health: [/bin/check, --quick]\n",
                      "a.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Step& s = r->explore[1];
  EXPECT_EQ(s.kind, Step::Kind::Auto);
  EXPECT_EQ(s.name, "generated");
  EXPECT_EQ(s.line, 6);
  EXPECT_EQ(s.generate.budget, milliseconds(90000));
  EXPECT_EQ(s.generate.quiet, 0);
  EXPECT_EQ(s.generate.step_timeout, milliseconds(2000));
  EXPECT_EQ(s.generate.parts, (std::vector<std::string>{"http", "tcp"}));
  EXPECT_EQ(s.generate.max_pages, 5);
  EXPECT_EQ(s.generate.seed, 42);
  EXPECT_EQ(s.generate.health, (std::vector<std::string>{"/bin/check", "--quick"}));
}

TEST(SpecAuto, ErrorsNameTheField) {
  std::string head(kHead);
  EXPECT_EQ(
      error_of(head + "explore:\n  - auto: {parts: [http, smtp]}\n"),
      "spec t.yaml:5: explore[0].auto.parts[1]: unknown part \"smtp\" (expected one of lifecycle, http, tcp, "
      "edges)");
  EXPECT_EQ(error_of(head + "explore:\n  - auto: {quiet: -1}\n"),
            "spec t.yaml:5: explore[0].auto.quiet: expected a number of steps 0..1000000 (0: no quiet rule)");
  EXPECT_EQ(error_of(head + "explore:\n  - auto: {budget: soon}\n"),
            "spec t.yaml:5: explore[0].auto.budget: expected a duration like 10s");
  EXPECT_EQ(error_of(head + "explore:\n  - auto: {fuzz: yes}\n"),
            "spec t.yaml:5: explore[0].auto.fuzz: unknown field (expected one of budget, quiet, "
            "step_timeout, parts, "
            "max_pages, seed, health)");
  EXPECT_EQ(
      error_of(head + "explore:\n  - auto: true\n"),
      "spec t.yaml:5: explore[0].auto: expected a mapping like {budget: 120s, quiet: 40} (or {} for the "
      "defaults)");
  EXPECT_EQ(
      error_of(head + "explore:\n  - auto: {}\n    timeout: 5s\n"),
      "spec t.yaml:6: explore[0].timeout: an auto step has a budget, not a timeout (auto: {budget: 120s})");
  EXPECT_EQ(
      error_of(head + "explore:\n  - run: 'true'\nvalidate:\n  - run: 'true'\n  - auto: {}\n"),
      "spec t.yaml:8: validate[1].auto: auto steps belong in explore: validate and bench steps are the same "
      "at every run");
  EXPECT_EQ(
      error_of(head + "explore:\n  - run: 'true'\nbench:\n  - auto: {budget: 5s}\n"),
      "spec t.yaml:7: bench[0].auto: auto steps belong in explore: validate and bench steps are the same "
      "at every run");
  EXPECT_EQ(error_of(head + "explore:\n  - run: 'true'\nvalidate:\n  - name: idle\n"),
            "spec t.yaml:7: validate[0]: no action; a step has one of run, exec, signal, restart, sleep");
}

}  // namespace
}  // namespace sandmine::spec
