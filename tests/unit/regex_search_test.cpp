// util/regex_search.h: a spec's regular expression on long program output,
// line by line, without overflowing the stack.
#include "util/regex_search.h"

#include <gtest/gtest.h>

#include <string>

namespace sandmine {
namespace {

TEST(RegexSearch, FirstMatchingLineAndItsGroups) {
  auto r = search_by_line("Running 3s test\nRequests/sec:   1234.5\nTransfer/sec: 1MB\n",
                          std::regex(R"(Requests/sec:\s+([0-9.]+)( MB)?)"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(*r);
  ASSERT_EQ((*r)->groups.size(), 3u);
  EXPECT_EQ((*r)->groups[0], "Requests/sec:   1234.5");
  EXPECT_EQ((*r)->groups[1], "1234.5");
  EXPECT_FALSE((*r)->groups[2]) << "a group that took no part";
  auto none = search_by_line("a\nb\n", std::regex("c"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  auto last = search_by_line("x\ntps = 42", std::regex("tps = ([0-9]+)"));
  ASSERT_TRUE(last.ok() && *last);
  EXPECT_EQ((*last)->groups[1], "42");
}

// ".*" on one line of 40 KB overflowed an 8 MB stack inside std::regex
// (SIGSEGV from about 30 KB on) before the output was cut into pieces.
TEST(RegexSearch, LongOutputDoesNotOverflowTheStack) {
  std::string output(40'000, 'x');
  output += "\n" + std::string(20'000, 'y') + "Requests/sec: 7.5\n";
  auto r = search_by_line(output, std::regex(R"(.*Requests/sec: ([0-9.]+))"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->groups[1], "7.5");
}

}  // namespace
}  // namespace sandmine
