// Bad input that sandmine rejects before it needs any privilege: exit 2, one line.
#include <gtest/gtest.h>

#include "support/run.h"

namespace sandmine::test {

TEST(Cli, TraceWithoutCommand) {
  expect_one_line_error(sandmine({"trace"}), "no command given");
  expect_one_line_error(sandmine({"trace", "--"}), "no command given");
}

TEST(Cli, TraceCommandNotFound) {
  expect_one_line_error(sandmine({"trace", "--", "no-such-command-sandmine"}),
                        "command not found: no-such-command-sandmine");
  expect_one_line_error(sandmine({"trace", "--", "/nonexistent/tool"}),
                        "command not found or not executable: /nonexistent/tool");
}

TEST(Cli, TraceUnknownBackend) {
  expect_one_line_error(sandmine({"trace", "--backend", "dtrace", "--", "true"}),
                        "--backend: dtrace not in {ebpf,ptrace}");
}

TEST(Cli, TraceUnwritableOutput) {
  expect_one_line_error(sandmine({"trace", "-o", "/nonexistent-dir/t.json", "--", "true"}),
                        "cannot write /nonexistent-dir/t.json: No such file or directory");
  TempDir dir;
  expect_one_line_error(sandmine({"trace", "-o", dir.path(), "--", "true"}), "it is a directory");
}

TEST(Cli, ProfileRejectsMalformedTraces) {
  TempDir dir;
  write_text(dir.file("bad.json"), "{ not json");
  expect_one_line_error(sandmine({"profile", dir.file("bad.json")}),
                        dir.file("bad.json") + ": not valid JSON");
  write_text(dir.file("wrong.json"),
             R"({"version":1,"backend":"ebpf","syscalls":[{"arch":"x86_64","name":"read","nr":0}]})");
  expect_one_line_error(sandmine({"profile", dir.file("wrong.json")}), "syscalls[0].count: missing");
  expect_one_line_error(sandmine({"profile", dir.file("missing.json")}),
                        "cannot read trace " + dir.file("missing.json"));
}

TEST(Cli, ProfileRefusesPartialTracesUnlessAsked) {
  TempDir dir;
  write_text(dir.file("p.json"),
             R"({"version":1,"backend":"ebpf","partial":true,"partial_reason":"interrupted by SIGINT",)"
             R"("syscalls":[{"arch":"x86_64","name":"read","nr":0,"count":1}]})");
  expect_one_line_error(sandmine({"profile", dir.file("p.json")}),
                        "is a partial trace (interrupted by SIGINT)");
  Outcome ok = sandmine({"profile", "--allow-partial", dir.file("p.json")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"read\""), std::string::npos);
}

TEST(Cli, UnknownSubcommandAndHelp) {
  EXPECT_EQ(sandmine({"frobnicate"}).exit_code, 2);
  Outcome help = sandmine({"trace", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("EXAMPLES:"), std::string::npos);
}

}  // namespace sandmine::test
