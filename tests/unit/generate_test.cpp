// Generated exploration without privileges: what /proc says, HTTP on the
// wire, crawling, mutations, the fuzzer's keep-or-drop rule, TCP reassembly,
// and the generator's plan and stop rules over a fake target.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "explore/generate/capture.h"
#include "explore/generate/crawl.h"
#include "explore/generate/fuzz.h"
#include "explore/generate/generator.h"
#include "explore/generate/health.h"
#include "explore/generate/http.h"
#include "explore/generate/lifecycle.h"
#include "explore/generate/mutate.h"
#include "explore/generate/procfs.h"
#include "explore/generate/protocols.h"
#include "support/run.h"

namespace sandmine::explore::generate {
namespace {

using Strings = std::vector<std::string>;
using std::chrono::milliseconds;

TEST(Procfs, CaughtSignalsAreTheSetBitsOfSigCgt) {
  // 0x4a07: bits 0, 1, 2, 9, 11, 14; bit 63: signal 64.
  EXPECT_EQ(caught_signals("Name:\tx\nSigIgn:\t0000000000001000\nSigCgt:\t8000000000004a07\nCapInh:\t0\n"),
            (std::vector<int>{1, 2, 3, 10, 12, 15, 64}));
  EXPECT_EQ(caught_signals("SigCgt:\t0000000000000000\n"), std::vector<int>{});
  EXPECT_EQ(caught_signals("no such line\n"), std::vector<int>{});
}

TEST(Procfs, SignalsToSendLeaveOutTheStopSignalAndGlibcsOwn) {
  EXPECT_EQ(signals_to_send({1, 2, 10, 15, 32, 33, 34}, SIGTERM), (std::vector<int>{1, 2, 10, 34}));
  EXPECT_EQ(signals_to_send({1, 3, 15}, SIGQUIT), (std::vector<int>{1, 15}));
  // Fault signals: one step for the crash handler, the lowest caught.
  EXPECT_EQ(signals_to_send({1, 4, 6, 7, 8, 11, 15, 31}, SIGTERM), (std::vector<int>{1}));
  EXPECT_EQ(fault_signal_to_send({1, 4, 6, 7, 8, 11, 15, 31}, SIGTERM), SIGILL);
  EXPECT_EQ(fault_signal_to_send({11}, SIGSEGV), std::nullopt);
  EXPECT_EQ(fault_signal_to_send({1, 10}, SIGTERM), std::nullopt);
}

constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 "
    "0 10 0\n"
    "   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 "
    "0 10 0\n"
    "   2: 0500000A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 "
    "0 10 0\n"
    "   3: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 20 4 "
    "30 10 -1\n";
constexpr const char* kTcp6 =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue\n"
    "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000\n"
    "   1: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 0A 00000000:00000000\n"
    "   2: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000\n";

TEST(Procfs, ListenersReachableFromTheLoopback) {
  using sys::Loopback;
  auto v4 = listening_sockets(kTcp, false);
  ASSERT_EQ(v4.size(), 2u);  // 10.0.0.5:80 and the established connection are left out
  EXPECT_EQ(v4[0], (Listener{.port = 6379, .reach = {Loopback::V4}}));
  EXPECT_EQ(v4[1], (Listener{.port = 8080, .reach = {Loopback::V4}}));
  auto v6 = listening_sockets(kTcp6, true);
  ASSERT_EQ(v6.size(), 3u);
  EXPECT_EQ(v6[0], (Listener{.port = 80, .reach = {Loopback::V4, Loopback::V6}}));
  EXPECT_EQ(v6[1], (Listener{.port = 8080, .reach = {Loopback::V6}}));
  EXPECT_EQ(v6[2], (Listener{.port = 9000, .reach = {Loopback::V6}}));
  auto all = merge_listeners(v4, v6);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], (Listener{.port = 80, .reach = {Loopback::V4, Loopback::V6}}));
  EXPECT_EQ(all[1], (Listener{.port = 6379, .reach = {Loopback::V4}}));
  EXPECT_EQ(all[2], (Listener{.port = 8080, .reach = {Loopback::V4, Loopback::V6}}));
  EXPECT_EQ(all[3], (Listener{.port = 9000, .reach = {Loopback::V6}}));
}

TEST(Procfs, StateIsAfterTheLastParenthesis) {
  EXPECT_EQ(stat_state("42 (a) b (c)) S 1 42 42 0 -1"), 'S');
  EXPECT_EQ(stat_state("7 (worker) R 1"), 'R');
  EXPECT_EQ(stat_state("garbage"), '?');
}

TEST(Http, RequestsAreWrittenAsGiven) {
  EXPECT_EQ(
      to_wire({.method = "PROPFIND", .target = "/d/", .headers = {{"Depth", "1"}}, .body = "<x/>"}, 8080),
      "PROPFIND /d/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nDepth: 1\r\nContent-Length: 4\r\n\r\n<x/>");
  EXPECT_EQ(to_wire({.target = "/", .version = "HTTP/1.0", .host = false}, 80), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(
      to_wire({.method = "POST", .headers = {{"Transfer-Encoding", "chunked"}}, .body = chunked({"ab", "c"})},
              1),
      "POST / HTTP/1.1\r\nHost: 127.0.0.1:1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n");
  EXPECT_EQ(chunked({"xyz"}, "T: 1\r\n"), "3\r\nxyz\r\n0\r\nT: 1\r\n\r\n");
}

TEST(Http, ResponsesAreParsedByTheirFraming) {
  HttpResponse r;
  size_t used = 0;
  std::string two = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\n";
  ASSERT_EQ(parse_response(two, false, false, r, used), ParseState::Complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(used, two.find("HTTP/1.1 404"));
  EXPECT_EQ(parse_response(std::string_view(two).substr(used), false, false, r, used),
            ParseState::Incomplete);

  std::string chunk =
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n";
  ASSERT_EQ(parse_response(chunk, false, false, r, used), ParseState::Complete);
  EXPECT_EQ(r.body, "wikipedia");
  EXPECT_EQ(used, chunk.size());
  EXPECT_EQ(parse_response(chunk.substr(0, chunk.size() - 2), false, false, r, used), ParseState::Incomplete);

  ASSERT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true, false, r, used),
            ParseState::Complete);  // HEAD: no body whatever the length says
  EXPECT_EQ(r.body, "");
  ASSERT_EQ(parse_response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", false, false, r, used),
            ParseState::Complete);
  EXPECT_EQ(r.status, 100);
  EXPECT_EQ(used, 25u);
  ASSERT_EQ(parse_response("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close", false, false, r, used),
            ParseState::Incomplete);
  ASSERT_EQ(parse_response("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close", false, true, r, used),
            ParseState::Complete);
  EXPECT_EQ(r.body, "until close");
  EXPECT_EQ(r.header("SERVER"), "x");
  EXPECT_EQ(parse_response("-ERR unknown command\r\n", false, false, r, used), ParseState::Invalid);
  EXPECT_TRUE(looks_like_http("HTTP/1.1 400 Bad Request"));
  EXPECT_FALSE(looks_like_http("+PONG\r\n"));
}

TEST(Crawl, ReferencesResolveToSitePaths) {
  EXPECT_EQ(resolve("/a/b.html", "c.html"), "/a/c.html");
  EXPECT_EQ(resolve("/a/b.html", "../x/./y?q=1#top"), "/x/y?q=1");
  EXPECT_EQ(resolve("/a/", "sub/"), "/a/sub/");
  EXPECT_EQ(resolve("/a/b", "/"), "/");
  EXPECT_EQ(resolve("/", "../../etc"), "/etc");
  EXPECT_EQ(resolve("/a/b", "?page=2"), "/a/b?page=2");
  EXPECT_EQ(resolve("/", "http://127.0.0.1:8080/x"), "/x");
  EXPECT_EQ(resolve("/", "//localhost/y/"), "/y/");
  EXPECT_EQ(resolve("/", "http://example.com/x"), std::nullopt);
  EXPECT_EQ(resolve("/", "mailto:a@b"), std::nullopt);
  EXPECT_EQ(resolve("/", "javascript:void(0)"), std::nullopt);
  EXPECT_EQ(resolve("/", "#top"), std::nullopt);
}

TEST(Crawl, LinksAndFormsOfAPage) {
  auto page = extract_links(
      "<html><a href=\"a.html\">a</a> <A HREF='dir/'>d</A> <a href=a.html>again</a>"
      "<img src=/i.png><a href=\"http://example.com/\">out</a><link rel=x href=\"s.css?v=1&amp;w=2\">"
      "<form action=\"/find\"><input name=\"q\"><select name=\"n\"></select></form>"
      "<form method=POST><textarea name=\"body\"></textarea><input type=submit></form></html>",
      "/docs/index.html");
  EXPECT_EQ(page.links, (Strings{"/docs/a.html", "/docs/dir/", "/i.png", "/docs/s.css?v=1&w=2"}));
  ASSERT_EQ(page.forms.size(), 2u);
  EXPECT_EQ(page.forms[0], (Form{.action = "/find", .method = "GET", .fields = {"q", "n"}}));
  EXPECT_EQ(page.forms[1], (Form{.action = "/docs/index.html", .method = "POST", .fields = {"body"}}));
  EXPECT_EQ(form_body(page.forms[0]), "q=sandmine&n=sandmine");
}

TEST(Mutate, NumbersGetBoundaryValues) {
  auto r = number_replacements("5");
  EXPECT_EQ(
      r, (Strings{"-1", "0", "1", "11", "18446744073709551615", "2147483647", "2147483648", "255", "256", "4",
                  "4294967295", "4294967296", "6", "65535", "65536", "65537", "99999999999999999999"}));
  auto zero = number_replacements("0");
  EXPECT_EQ(std::count(zero.begin(), zero.end(), "0"), 0);
}

TcpInput input(Strings messages, int port = 7) { return {.port = port, .messages = std::move(messages)}; }

TEST(Mutate, EachMutationDoesWhatItSays) {
  Mutator m(7);
  const TcpInput base = input({"HELLO\n", "PUT 5\nhello", "QUIT\n"});
  for (int i = 0; i < 50; ++i) {
    auto dropped = m.apply(Mutation::DropMessage, base, {});
    EXPECT_EQ(dropped.messages.size(), 2u);
    auto swapped = m.apply(Mutation::Reorder, base, {});
    ASSERT_EQ(swapped.messages.size(), 3u);
    EXPECT_NE(swapped.messages, base.messages);
    EXPECT_TRUE(std::is_permutation(swapped.messages.begin(), swapped.messages.end(), base.messages.begin()));
    auto repeated = m.apply(Mutation::Repeat, base, {});
    EXPECT_GE(repeated.messages.size(), 4u);
    EXPECT_LE(repeated.messages.size(), 10u);
    auto cut = m.apply(Mutation::Truncate, base, {});
    std::string all, cut_all;
    for (const auto& s : base.messages) all += s;
    for (const auto& s : cut.messages) cut_all += s;
    EXPECT_LT(cut_all.size(), all.size());
    EXPECT_EQ(all.substr(0, cut_all.size()), cut_all);
    auto number = m.apply(Mutation::Number, base, {});
    ASSERT_EQ(number.messages.size(), 3u);
    EXPECT_EQ(number.messages[0], "HELLO\n");
    EXPECT_EQ(number.messages[2], "QUIT\n");
    const std::string& put = number.messages[1];
    ASSERT_TRUE(put.starts_with("PUT ") && put.ends_with("\nhello")) << put;
    auto value = put.substr(4, put.size() - 10);
    auto choices = number_replacements("5");
    EXPECT_NE(std::find(choices.begin(), choices.end(), value), choices.end()) << value;
    auto flipped = m.apply(Mutation::FlipBit, base, {});
    int bits = 0;
    for (size_t k = 0; k < 3; ++k)
      for (size_t j = 0; j < base.messages[k].size(); ++j)
        bits += __builtin_popcount(static_cast<unsigned char>(flipped.messages[k][j] ^ base.messages[k][j]));
    EXPECT_EQ(bits, 1);
  }
  // A big-endian 16-bit length of what follows it.
  const TcpInput framed = input({std::string("\x00\x05hello", 7)});
  for (int i = 0; i < 20; ++i) {
    auto changed = m.apply(Mutation::BinaryLength, framed, {});
    EXPECT_EQ(changed.messages[0].substr(2), "hello");
    EXPECT_NE(changed.messages[0].substr(0, 2), framed.messages[0].substr(0, 2));
  }
  // Splices come from inputs for the same port only.
  const std::vector<TcpInput> others{input({"OTHER\n"}, 7), input({"ELSEWHERE\n"}, 8)};
  for (int i = 0; i < 20; ++i) {
    auto spliced = m.apply(Mutation::Splice, base, others);
    EXPECT_EQ(std::count(spliced.messages.begin(), spliced.messages.end(), "OTHER\n"), 1);
    EXPECT_EQ(std::count(spliced.messages.begin(), spliced.messages.end(), "ELSEWHERE\n"), 0);
  }
  // What cannot apply leaves the input as it was.
  EXPECT_EQ(m.apply(Mutation::DropMessage, input({"one"}), {}).messages, Strings{"one"});
  EXPECT_EQ(m.apply(Mutation::Number, input({"no digits"}), {}).messages, Strings{"no digits"});
}

TEST(Mutate, AMutantAlwaysDiffersAndTheSeedReproducesIt) {
  Mutator a(11), b(11);
  const TcpInput base = input({"x"});
  for (int i = 0; i < 200; ++i) {
    Mutation used_a, used_b;
    auto ma = a.mutate(base, {}, used_a);
    auto mb = b.mutate(base, {}, used_b);
    EXPECT_NE(ma.messages, base.messages);
    EXPECT_EQ(ma.messages, mb.messages);
    EXPECT_EQ(used_a, used_b);
  }
}

TEST(Fuzz, MutantsAreKeptOnlyWhenTheyAddedSomething) {
  Fuzzer f({input({"A\n"}), input({"A\n"}), input({"B\n"}), input({})}, 3);
  EXPECT_EQ(f.seeds(), 2u);  // the duplicate and the empty one are dropped
  ASSERT_EQ(f.corpus().size(), 2u);
  EXPECT_EQ(f.corpus()[0].origin, "seed 1");
  EXPECT_EQ(f.corpus()[1].origin, "seed 2");

  auto m1 = f.next();
  EXPECT_EQ(m1.number, 1);
  EXPECT_TRUE(std::regex_match(m1.input.origin, std::regex(R"(mutant 1 \([a-z-]+\) of seed [12])")))
      << m1.input.origin;
  EXPECT_NE(m1.input.messages, Strings{"A\n"});
  EXPECT_NE(m1.input.messages, Strings{"B\n"});
  f.feedback(false);
  EXPECT_EQ(f.corpus().size(), 2u);
  EXPECT_EQ(f.dropped(), 1u);

  auto m2 = f.next();
  EXPECT_EQ(m2.number, 2);
  f.feedback(true);
  ASSERT_EQ(f.corpus().size(), 3u);
  EXPECT_EQ(f.corpus().back().messages, m2.input.messages);
  EXPECT_EQ(f.corpus().back().origin, m2.input.origin);
  EXPECT_EQ(f.kept(), 1u);

  for (int i = 0; i < 10; ++i) {
    (void)f.next();
    f.feedback(false);
  }
  EXPECT_EQ(f.corpus().size(), 3u);
  EXPECT_EQ(f.dropped(), 11u);
  EXPECT_EQ(f.kept(), 1u);
  f.feedback(true);  // no pending mutant: nothing to keep
  EXPECT_EQ(f.corpus().size(), 3u);
}

TEST(Fuzz, TheCorpusIsBoundedAndKeepsItsSeeds) {
  Fuzzer f({input({"A"}), input({"B"})}, 5, 4);
  for (int i = 0; i < 6; ++i) {
    (void)f.next();
    f.feedback(true);
  }
  ASSERT_EQ(f.corpus().size(), 4u);
  EXPECT_EQ(f.corpus()[0].origin, "seed 1");
  EXPECT_EQ(f.corpus()[1].origin, "seed 2");
  EXPECT_TRUE(f.corpus()[2].origin.starts_with("mutant 5 (")) << f.corpus()[2].origin;
  EXPECT_TRUE(f.corpus()[3].origin.starts_with("mutant 6 (")) << f.corpus()[3].origin;
  EXPECT_EQ(f.kept(), 6u);
}

// An IPv4 TCP packet from a:ap to b:bp.
std::vector<std::uint8_t> packet(std::uint8_t a, int ap, std::uint8_t b, int bp, std::uint32_t seq,
                                 std::uint8_t flags, const std::string& payload) {
  std::vector<std::uint8_t> p(40 + payload.size(), 0);
  p[0] = 0x45;
  p[2] = static_cast<std::uint8_t>(p.size() >> 8);
  p[3] = static_cast<std::uint8_t>(p.size());
  p[9] = 6;
  p[12] = 127, p[15] = a;
  p[16] = 127, p[19] = b;
  std::uint8_t* t = p.data() + 20;
  t[0] = static_cast<std::uint8_t>(ap >> 8), t[1] = static_cast<std::uint8_t>(ap);
  t[2] = static_cast<std::uint8_t>(bp >> 8), t[3] = static_cast<std::uint8_t>(bp);
  for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
  t[12] = 5 << 4;
  t[13] = flags;
  std::copy(payload.begin(), payload.end(), p.begin() + 40);
  return p;
}

TEST(Reassembly, StreamsInOrderWithoutRetransmissions) {
  TcpReassembler r;
  auto feed = [&](const std::vector<std::uint8_t>& p) { r.add_ip(p.data(), p.size()); };
  constexpr std::uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08;
  // The client (port 40000) connects to 6379; its sequence numbers wrap.
  feed(packet(1, 40000, 1, 6379, 0xfffffffe, kSyn, ""));
  feed(packet(1, 6379, 1, 40000, 1000, kSyn | kAck, ""));
  feed(packet(1, 40000, 1, 6379, 0xffffffff, kAck | kPsh, "PIN"));
  feed(packet(1, 40000, 1, 6379, 0xffffffff, kAck | kPsh, "PIN"));  // retransmitted
  feed(packet(1, 40000, 1, 6379, 4, kAck | kPsh, "\n"));            // early: waits for "G\r"
  feed(packet(1, 40000, 1, 6379, 1, kAck | kPsh, "NG\r"));          // overlaps "N" by one byte
  feed(packet(1, 6379, 1, 40000, 1001, kAck | kPsh, "+PONG\r\n"));
  feed(packet(1, 40000, 1, 6379, 5, kAck | kPsh, "QUIT\r\n"));
  feed(packet(1, 6379, 1, 40000, 1008, kAck | kPsh, "+OK\r\n"));
  // A connection whose SYN was missed, and one where the client said nothing.
  feed(packet(1, 6379, 1, 40002, 5, kAck | kPsh, "hello\r\n"));
  feed(packet(1, 40001, 1, 6379, 77, kAck | kPsh, "late"));
  auto streams = r.streams();
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].server_port, 6379);
  EXPECT_EQ(streams[0].client_port, 40000);
  EXPECT_EQ(streams[0].messages,
            (std::vector<TcpMessage>{
                {true, "PING\r\n"}, {false, "+PONG\r\n"}, {true, "QUIT\r\n"}, {false, "+OK\r\n"}}));
  EXPECT_EQ(streams[0].client_messages(), (Strings{"PING\r\n", "QUIT\r\n"}));
  EXPECT_EQ(streams[1].server_port, 6379);  // the lower port serves when no SYN said so
  EXPECT_EQ(streams[1].client_port, 40001);
  EXPECT_EQ(streams[1].client_messages(), Strings{"late"});
}

// A target that runs nothing: it records what the generator asks of it. Its
// cgroup is a directory of fixed files, so it is quiescent at once.
class FakeTarget final : public Target {
 public:
  explicit FakeTarget(pid_t pid, std::string dir) : pid_(pid), dir_(std::move(dir)) {
    test::write_text(dir_ + "/cpu.stat", "usage_usec 100\nuser_usec 50\nsystem_usec 50\n");
    test::write_text(dir_ + "/cgroup.threads", "");
  }
  pid_t main_pid() const override { return pid_; }
  int netns_fd() const override { return -1; }
  Result<sys::CommandResult> exec(const std::vector<std::string>& argv, milliseconds timeout) override {
    calls.push_back("exec " + argv[0]);
    if (slow_exec) {  // a command that runs until its timeout
      std::this_thread::sleep_for(timeout);
      return sys::CommandResult{.exit_code = 137, .timed_out = true};
    }
    return sys::CommandResult{.exit_code = 3, .output = "unhealthy\n"};
  }
  Status signal(int sig) override {
    calls.push_back("signal " + std::to_string(sig));
    return {};
  }
  Status restart() override {
    calls.push_back("restart");
    return {};
  }
  Status pause() override {
    calls.push_back("pause");
    return {};
  }
  Status resume() override {
    calls.push_back("resume");
    return {};
  }
  bool running() const override { return true; }
  int stop_signal() const override { return SIGTERM; }
  std::string cgroup_dir() const override { return dir_; }
  Strings calls;
  bool slow_exec = false;

 private:
  pid_t pid_;
  std::string dir_;
};

// prog_signal_server, running until the test ends: its /proc says it catches 1, 10 and 15.
class SignalServer {
 public:
  SignalServer() : bg_({test::prog("signal_server")}) {
    test::wait_until([&] {
      return read_caught_signals(bg_.pid()).value_or(std::vector<int>{}) == std::vector<int>{1, 10, 15};
    });
  }
  pid_t pid() const { return bg_.pid(); }

 private:
  test::Background bg_;
};

GenerateOptions lifecycle_only() {
  GenerateOptions o;
  o.http = o.tcp = o.edges = false;
  o.pause_for = milliseconds(10);
  o.quiescence.window = milliseconds(20);
  o.quiescence.interval = milliseconds(5);
  return o;
}

TEST(Generator, LifecyclePlanFromWhatTheMainProcessCatches) {
  SignalServer server;
  test::TempDir dir;
  FakeTarget target(server.pid(), dir.path());
  auto options = lifecycle_only();
  options.health_check = {"/bin/check"};
  options.quiet = 0;
  auto source = make_generator(target, options);
  Strings names;
  while (auto step = source->next()) {
    names.push_back(step->name);
    EXPECT_EQ(step->part, "lifecycle");
    auto o = step->body(target);
    EXPECT_TRUE(o.ok) << o.failure;
    if (step->name == "auto/health") {
      EXPECT_EQ(o.output, "unhealthy\nexit 3\n");
    }
    if (step->name == "auto/exec/kill -s HUP") {
      // The server runs in the test's own PID namespace: its PID there.
      EXPECT_EQ(o.output, fmt::format("unhealthy\nkill -s HUP {}: exit 3\n", server.pid()));
    }
    source->feedback({.new_syscalls = {"x86_64:getpid"}});
  }
  EXPECT_EQ(names, (Strings{"auto/signal/SIGHUP", "auto/signal/SIGUSR1", "auto/exec/kill -s HUP",
                            "auto/pause", "auto/health", "auto/restart"}));
  EXPECT_EQ(target.calls, (Strings{"signal 1", "signal 10", "exec /bin/sh", "pause", "resume",
                                   "exec /bin/check", "restart"}));
  EXPECT_EQ(source->stop_reason(), StopReason::Exhausted);
  EXPECT_TRUE(source->stop_detail().starts_with("nothing more to generate after 6 generated steps in "))
      << source->stop_detail();
  EXPECT_FALSE(source->next().has_value());
}

TEST(Generator, TheQuietRuleDoesNotCutAPlannedPart) {
  SignalServer server;
  test::TempDir dir;
  FakeTarget target(server.pid(), dir.path());
  auto options = lifecycle_only();
  options.quiet = 2;
  auto source = make_generator(target, options);
  Strings names;
  // The first adds something, the others nothing: each lifecycle step is a
  // behaviour of its own, not another sample of the one before, so all run.
  for (int i = 0; auto step = source->next(); ++i) {
    names.push_back(step->name);
    (void)step->body(target);
    source->feedback(i == 0 ? Feedback{.new_values = {"openat:flags=O_RDONLY"}} : Feedback{});
  }
  EXPECT_EQ(names, (Strings{"auto/signal/SIGHUP", "auto/signal/SIGUSR1", "auto/exec/kill -s HUP",
                            "auto/pause", "auto/restart"}));
  EXPECT_EQ(source->stop_reason(), StopReason::Exhausted);
  EXPECT_TRUE(source->stop_detail().starts_with("nothing more to generate after 5 generated steps in "))
      << source->stop_detail();
  EXPECT_NE(source->stop_detail().find("; steps by part: lifecycle 5 (1 added)"), std::string::npos)
      << source->stop_detail();
}

TEST(Generator, NoStepStartsOrRunsPastTheBudget) {
  SignalServer server;
  test::TempDir dir;
  FakeTarget target(server.pid(), dir.path());
  target.slow_exec = true;  // the health check would run forever: the budget ends it
  auto options = lifecycle_only();
  options.quiet = 0;
  options.health_check = {"/bin/check"};
  options.budget = milliseconds(400);
  auto source = make_generator(target, options);
  auto start = std::chrono::steady_clock::now();
  Strings names;
  while (auto step = source->next()) {
    names.push_back(step->name);
    (void)step->body(target);
    source->feedback({});
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(source->stop_reason(), StopReason::Budget);
  EXPECT_LE(elapsed, milliseconds(400 + 100));
  EXPECT_GE(elapsed, milliseconds(400 - 100));
  // The kill from inside runs until the budget's end (slow_exec).
  EXPECT_EQ(names, (Strings{"auto/signal/SIGHUP", "auto/signal/SIGUSR1", "auto/exec/kill -s HUP"}));
  EXPECT_TRUE(source->stop_detail().starts_with("the budget of 0.4 s is spent after 3 generated steps in 0."))
      << source->stop_detail();
}

}  // namespace
}  // namespace sandmine::explore::generate

namespace sandmine::explore::generate {
namespace {

TEST(Health, TheImagesTestListBecomesACommand) {
  using nlohmann::json;
  EXPECT_EQ(health_check_command(json::parse(R"(["CMD", "pg_isready", "-q"])")),
            (std::vector<std::string>{"pg_isready", "-q"}));
  EXPECT_EQ(health_check_command(json::parse(R"(["CMD-SHELL", "curl -f http://localhost/ || exit 1"])")),
            (std::vector<std::string>{"/bin/sh", "-c", "curl -f http://localhost/ || exit 1"}));
  EXPECT_EQ(health_check_command(json::parse(R"(["NONE"])")), std::vector<std::string>{});
  EXPECT_EQ(health_check_command(json::parse("[]")), std::vector<std::string>{});
  EXPECT_EQ(health_check_command(json()), std::vector<std::string>{});
  // docker image inspect, podman image inspect, an OCI image config.
  EXPECT_EQ(
      health_check_in(json::parse(R"([{"Id": "x", "Config": {"Healthcheck": {"Test": ["CMD", "true"]}}}])")),
      std::vector<std::string>{"true"});
  EXPECT_EQ(
      health_check_in(json::parse(R"([{"Config": {}, "HealthCheck": {"Test": ["CMD-SHELL", "exit 0"]}}])")),
      (std::vector<std::string>{"/bin/sh", "-c", "exit 0"}));
  EXPECT_EQ(health_check_in(json::parse(R"({"config": {"Healthcheck": {"Test": ["CMD", "/hc"]}}})")),
            std::vector<std::string>{"/hc"});
  EXPECT_EQ(health_check_in(json::parse(R"([{"Config": {"Healthcheck": null}}])")),
            std::vector<std::string>{});
}

TEST(Protocols, UnescapeTakesTheDataTablesEscapes) {
  auto b = unescape(R"(a\r\n\t\0\x7f\xFF\\)");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, (std::vector<int>{'a', '\r', '\n', '\t', 0, 0x7f, 0xff, '\\'}));
  auto any = unescape(R"(\?\x0a)", true);
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_EQ(*any, (std::vector<int>{-1, 10}));
  EXPECT_FALSE(unescape(R"(\?)").ok());
  EXPECT_FALSE(unescape(R"(\q)").ok());
  EXPECT_FALSE(unescape(R"(\x4)").ok());
  EXPECT_FALSE(unescape("end\\").ok());
}

TEST(Protocols, ProbesMatchByPrefixOrWholeWithAnyByte) {
  auto probes = parse_probes(
      "protocol,probe,reply,match,source\n"
      "mysql,,\\?\\?\\?\\x00\\x0a,prefix,s\n"
      "postgres,\\x00\\x00\\x00\\x08\\x04\\xd2\\x16\\x2f,N,whole,s\n",
      "t.csv");
  ASSERT_TRUE(probes.ok()) << probes.error().message;
  ASSERT_EQ(probes->size(), 2u);
  const auto& mysql = (*probes)[0];
  const auto& pg = (*probes)[1];
  EXPECT_EQ(mysql.probe, "");
  EXPECT_EQ(pg.probe, std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8));
  EXPECT_TRUE(
      mysql.matches(std::string("\x4a\x00\x00\x00\x0a"
                                "5.5.5-10.11.6-MariaDB",
                                26)));
  EXPECT_FALSE(mysql.matches(std::string("\x4a\x00\x00\x01\x0a", 5)));  // not the first packet
  EXPECT_FALSE(mysql.matches(std::string("\x4a\x00\x00", 3)));
  EXPECT_TRUE(pg.matches("N"));
  EXPECT_FALSE(pg.matches("NOT_FOUND\r\n"));
  EXPECT_FALSE(pg.matches(""));
  auto bad = parse_probes("protocol,probe,reply,match,source\nx,a,b,exact,s\n", "t.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "t.csv:2: match is prefix or whole, not \"exact\"");
}

TEST(Protocols, SessionsAreBuiltByteForByte) {
  auto sessions = parse_sessions(
      "protocol,session,kind,repeat,text,source\n"
      "redis,one,resp,1,SET k {bytes:3},s\n"
      "memcached,two,send,2,get k{i}\\r\\n,s\n"
      "memcached,two,idle,1,250,s\n"
      "postgres,three,pg-startup,1,user=u database=d,s\n"
      "postgres,three,pg-query,1,SELECT 1,s\n"
      "postgres,three,pg-copy,2,{i}\\tx,s\n"
      "redis,one,resp,1,PING,s\n",
      "t.csv");
  ASSERT_TRUE(sessions.ok()) << sessions.error().message;
  ASSERT_EQ(sessions->size(), 3u);
  const auto& redis = (*sessions)[0];
  EXPECT_EQ(redis.protocol, "redis");
  EXPECT_EQ(redis.name, "one");
  ASSERT_EQ(redis.messages.size(), 2u);
  EXPECT_EQ(redis.messages[0].bytes, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nabc\r\n");
  EXPECT_EQ(redis.messages[1].bytes, "*1\r\n$4\r\nPING\r\n");
  const auto& mc = (*sessions)[1];
  ASSERT_EQ(mc.messages.size(), 2u);
  EXPECT_EQ(mc.messages[0].bytes, "get k0\r\nget k1\r\n");
  EXPECT_EQ(mc.messages[1].idle, milliseconds(250));
  auto in = mc.input(11211);
  EXPECT_EQ(in.port, 11211);
  EXPECT_EQ(in.messages, Strings{"get k0\r\nget k1\r\n"});  // no pause in an input
  EXPECT_EQ(in.origin, "memcached two");
  const auto& pg = (*sessions)[2];
  ASSERT_EQ(pg.messages.size(), 3u);
  EXPECT_EQ(pg.messages[0].bytes, std::string("\0\0\0\x1b\0\x03\0\0user\0u\0database\0d\0\0", 27));
  EXPECT_EQ(pg.messages[1].bytes, std::string("Q\0\0\0\x0dSELECT 1\0", 14));
  EXPECT_EQ(pg.messages[2].bytes, std::string("d\0\0\0\x08"
                                              "0\tx\n"
                                              "d\0\0\0\x08"
                                              "1\tx\n"
                                              "c\0\0\0\x04",
                                              23));
  auto bad = parse_sessions("protocol,session,kind,repeat,text,source\nx,y,shout,1,a,s\n", "t.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "t.csv:2: unknown kind \"shout\" (send, resp, pg-startup, pg-query, pg-copy, idle)");
  EXPECT_FALSE(parse_sessions("protocol,session,kind,repeat,text,source\nx,y,send,0,a,s\n", "t.csv").ok());
}

TEST(Protocols, TheEmbeddedTablesParseAndCoverTheirProtocols) {
  std::set<std::string> probed, with_sessions;
  for (const auto& p : protocol_probes()) probed.insert(p.protocol);
  for (const auto& s : protocol_sessions()) {
    with_sessions.insert(s.protocol);
    EXPECT_FALSE(s.messages.empty()) << s.protocol << " " << s.name;
    if (s.protocol == "postgres") {
      EXPECT_EQ(s.messages[0].bytes.substr(4, 4), std::string("\0\3\0\0", 4)) << s.name;
    }
  }
  EXPECT_EQ(probed, (std::set<std::string>{"memcached", "mysql", "postgres", "redis"}));
  EXPECT_EQ(with_sessions, (std::set<std::string>{"memcached", "postgres", "redis"}));
}

}  // namespace
}  // namespace sandmine::explore::generate
