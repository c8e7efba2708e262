// --ulimit: parsed like docker run --ulimit, merged over each engine's
// defaults, and bad values rejected before anything runs: exit 2, one line.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/client_engine.h"
#include "engine/runc.h"
#include "engine/ulimit.h"
#include "support/run.h"

namespace sandmine::test {

using engine::Ulimit;

TEST(Ulimit, ParsesTypeSoftAndHard) {
  auto l = engine::parse_ulimit("nofile=512:1024");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(*l, (Ulimit{.type = "nofile", .soft = 512, .hard = 1024}));
  EXPECT_EQ(engine::to_string(*l), "nofile=512:1024");
  EXPECT_EQ(engine::oci_rlimit_type(*l), "RLIMIT_NOFILE");
  auto both = engine::parse_ulimit("sigpending=100");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, (Ulimit{.type = "sigpending", .soft = 100, .hard = 100}));
  EXPECT_EQ(engine::oci_rlimit_type(*both), "RLIMIT_SIGPENDING");
}

TEST(Ulimit, RejectsWhatNoEngineTakes) {
  auto message = [](const char* text) {
    auto r = engine::parse_ulimit(text);
    return r ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(message("foo"), "--ulimit foo: expected TYPE=SOFT:HARD, like nofile=1024:1024");
  EXPECT_EQ(message("=1:1"), "--ulimit =1:1: expected TYPE=SOFT:HARD, like nofile=1024:1024");
  EXPECT_EQ(
      message("files=1:1"),
      "--ulimit files=1:1: unknown type files (one of core, cpu, data, fsize, locks, memlock, msgqueue, "
      "nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)");
  EXPECT_EQ(message("NOFILE=1:1").rfind("--ulimit NOFILE=1:1: unknown type NOFILE (one of ", 0), 0u);
  for (const char* bad : {"nofile=", "nofile=:1", "nofile=1:", "nofile=-1:1", "nofile=1:2:3", "nofile=1k",
                          "nofile=9223372036854775808"})
    EXPECT_EQ(message(bad), std::string("--ulimit ") + bad +
                                ": expected TYPE=SOFT:HARD with whole numbers, like nofile=1024:1024");
  EXPECT_EQ(message("nofile=2:1"), "--ulimit nofile=2:1: the soft limit 2 is above the hard limit 1");
  EXPECT_EQ(message("nofile=9223372036854775807"), "accepted");
}

TEST(Ulimit, ATypeGivenTwiceIsAnError) {
  auto r = engine::parse_ulimits({"nofile=1:1", "nproc=5:5", "nofile=2:2"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "--ulimit nofile=2:2: nofile is already given (nofile=1:1)");
  auto ok = engine::parse_ulimits({"nofile=1:1", "nproc=5:5"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
}

TEST(Ulimit, GivenLimitsReplaceDefaultsOfTheirTypeAndAddTheRest) {
  std::vector<Ulimit> defaults{{"nofile", 1024, 1024}, {"nproc", 4096, 4096}};
  EXPECT_EQ(engine::with_defaults(defaults, {}), defaults);
  EXPECT_EQ(engine::with_defaults(defaults, {{"core", 0, 0}, {"nproc", 10, 20}}),
            (std::vector<Ulimit>{{"nofile", 1024, 1024}, {"nproc", 10, 20}, {"core", 0, 0}}));
}

// The flags each engine passes: the defaults of before --ulimit existed when
// none is given, the given limit instead of the default of its type.
TEST(Ulimit, EnginesRunContainersWithTheDefaultsOrTheGivenLimits) {
  auto podman = engine::podman_flavor();
  EXPECT_EQ(podman.run_args,
            (std::vector<std::string>{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"}));
  auto podman512 = engine::podman_flavor({{"nofile", 512, 512}});
  EXPECT_EQ(podman512.run_args,
            (std::vector<std::string>{"--ulimit", "nofile=512:512", "--ulimit", "nproc=4096:4096"}));
  EXPECT_EQ(engine::docker_flavor().run_args, (std::vector<std::string>{"--ulimit", "nofile=1024:1024"}));
  EXPECT_EQ(engine::docker_flavor({{"nofile", 512, 512}, {"stack", 1, 2}}).run_args,
            (std::vector<std::string>{"--ulimit", "nofile=512:512", "--ulimit", "stack=1:2"}));
  EXPECT_EQ(engine::Runc::default_ulimits(), (std::vector<Ulimit>{{"nofile", 1024, 1024}}));
}

namespace {

void expect_exactly_one_line(const Outcome& r, const std::string& text) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "sandmine: " + text + "\n");
}

}  // namespace

// Checked before the spec is read, the engine found or anything started: no
// root needed.
TEST(Ulimit, BadValuesExitTwoWithOneLine) {
  TempDir dir;
  std::string spec = dir.file("missing.yaml");
  expect_exactly_one_line(sandmine({"mine", spec, "--ulimit", "foo"}),
                          "--ulimit foo: expected TYPE=SOFT:HARD, like nofile=1024:1024");
  expect_exactly_one_line(
      sandmine({"mine", spec, "--ulimit", "nofile=1024:1024", "--ulimit", "files=1:1"}),
      "--ulimit files=1:1: unknown type files (one of core, cpu, data, fsize, locks, memlock, "
      "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)");
  expect_exactly_one_line(sandmine({"mine", spec, "--ulimit", "nofile=2048:1024"}),
                          "--ulimit nofile=2048:1024: the soft limit 2048 is above the hard limit 1024");
  expect_exactly_one_line(
      sandmine({"mine", spec, "--ulimit", "nofile=1:x"}),
      "--ulimit nofile=1:x: expected TYPE=SOFT:HARD with whole numbers, like nofile=1024:1024");
  expect_exactly_one_line(sandmine({"mine", spec, "--ulimit", "nofile=1:1", "--ulimit", "nofile=2:2"}),
                          "--ulimit nofile=2:2: nofile is already given (nofile=1:1)");
  // One value per --ulimit: the spec after it is still the spec.
  expect_exactly_one_line(sandmine({"mine", "--ulimit", "nofile=512:512", spec}),
                          "cannot read spec " + spec + ": No such file or directory");
}

TEST(Ulimit, HelpShowsTheOption) {
  Outcome r = sandmine({"mine", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--ulimit TYPE=SOFT:HARD"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nofile=1024:1024"), std::string::npos) << r.out;
}

}  // namespace sandmine::test
