// Static reachability (src/reach): ELF reading, disassembly, the C library's
// table and the analysis of the test programs, on this host's files (no
// privilege needed).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "reach/analysis.h"
#include "reach/code_graph.h"
#include "reach/elf_object.h"
#include "reach/libc_table.h"
#include "reach/reach_json.h"
#include "report/reach_section.h"
#include "support/run.h"
#include "syscalls/syscalls.h"
#include "trace/trace.h"

namespace sandmine {
namespace {

using test::prog;

std::set<std::string> names_of(const reach::NrSet& s, const std::string& arch) {
  std::set<std::string> out;
  for (std::size_t nr = 0; nr < s.size(); ++nr)
    if (s.test(nr)) out.insert(reach::nr_name(arch, static_cast<std::int64_t>(nr)));
  return out;
}

// The host's C library, as the dynamic loader finds it for the test programs.
const reach::LibcTable& host_libc() {
  static const reach::LibcTable table = [] {
    auto elf = reach::read_elf("/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_TRUE(elf) << elf.error().message;
    auto t = reach::build_libc_table(*elf);
    EXPECT_TRUE(t) << t.error().message;
    return *t;
  }();
  return table;
}

TEST(ReachElf, ReadsTheDynamicSectionSymbolsAndBuildId) {
  auto o = reach::read_elf(prog("reach_branch"));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->elf64);
  EXPECT_EQ(o->machine, 62);
  EXPECT_TRUE(o->dynamic);
  EXPECT_EQ(o->interp, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(o->needed, std::vector<std::string>{"libc.so.6"});
  EXPECT_EQ(o->build_id.size(), 40u);  // SHA-1, GCC's default
  EXPECT_TRUE(std::binary_search(o->imports.begin(), o->imports.end(), "__libc_start_main"));
  // fail() in prog_util.h reaches fprintf and strerror through the PLT or GOT.
  std::set<std::string> got;
  for (const auto& [slot, name] : o->got_imports) got.insert(name);
  EXPECT_TRUE(got.count("strerror") || got.count("fprintf") || got.count("fwrite")) << got.size();
}

TEST(ReachElf, NotElfIsAnError) {
  test::TempDir dir;
  test::write_text(dir.file("x"), "#!/bin/sh\n");
  auto o = reach::read_elf(dir.file("x"));
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("not an ELF file"), std::string::npos) << o.error().message;
}

TEST(ReachCode, OwnSyscallSitesWithConstantNumbers) {
  auto o = reach::read_elf(prog("reach_branch"));
  ASSERT_TRUE(o);
  for (bool full : {true, false}) {
    auto g = reach::build_code_graph(*o, {}, full);
    ASSERT_TRUE(g) << g.error().message;
    auto w = reach::whole(*g);
    EXPECT_EQ(names_of(w.native, "x86_64"), (std::set<std::string>{"getppid", "sched_rr_get_interval"}))
        << full;
    EXPECT_TRUE(w.compat.none());
    EXPECT_EQ(w.unresolved, 0u);
  }
}

TEST(ReachCode, Int80SitesAndSyscallWrapperCallsAreResolved) {
  // prog_int80: int $0x80 with 20 and 64 (i386 getpid, getppid), and
  // syscall(SYS_getppid) through libc's wrapper, which takes the number as argument 0.
  auto o = reach::read_elf(prog("int80"));
  ASSERT_TRUE(o);
  auto g = reach::build_code_graph(*o, {{"syscall", 0}}, false);
  ASSERT_TRUE(g) << g.error().message;
  auto w = reach::whole(*g);
  EXPECT_EQ(names_of(w.compat, "x86"), (std::set<std::string>{"getpid", "getppid"}));
  EXPECT_EQ(names_of(w.native, "x86_64"), (std::set<std::string>{"getppid"}));
  EXPECT_EQ(w.unresolved, 0u);
  // Without knowing that syscall() takes the number, nothing native is found.
  auto blind = reach::whole(*reach::build_code_graph(*o, {}, false));
  EXPECT_TRUE(blind.native.none());
}

TEST(ReachLibc, HostGlibcTable) {
  const auto& t = host_libc();
  EXPECT_EQ(t.flavor, "glibc");
  EXPECT_EQ(t.build_id.size(), 40u);
  ASSERT_TRUE(t.functions.count("syscall"));
  EXPECT_EQ(t.functions.at("syscall").nr_param, 0);
  auto has = [&](const std::string& fn, const std::string& sc) {
    auto it = t.functions.find(fn);
    return it != t.functions.end() && names_of(it->second.native, "x86_64").count(sc);
  };
  EXPECT_TRUE(has("fsync", "fsync"));
  EXPECT_TRUE(has("realloc", "mremap"));
  EXPECT_TRUE(has("fork", "clone"));
  EXPECT_TRUE(has("pthread_create", "clone3"));
  EXPECT_TRUE(has("opendir", "openat"));
  EXPECT_TRUE(has("readdir", "getdents64"));
  EXPECT_TRUE(has("nanosleep", "clock_nanosleep"));
  EXPECT_TRUE(has("pipe", "pipe2"));
  // Direct calls only: a function that makes no call of its own reaches only its syscall.
  EXPECT_EQ(names_of(t.functions.at("getppid").native, "x86_64"), (std::set<std::string>{"getppid"}));
  EXPECT_FALSE(has("getppid", "fsync"));
  EXPECT_FALSE(has("qsort", "fsync"));
}

TEST(ReachLibc, TableJsonRoundTrip) {
  const auto& t = host_libc();
  auto back = reach::libc_table_from_json(reach::to_json(t), "table");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->build_id, t.build_id);
  ASSERT_EQ(back->functions.size(), t.functions.size());
  for (const auto& [name, f] : t.functions) {
    const auto& g = back->functions.at(name);
    EXPECT_EQ(g.native, f.native) << name;
    EXPECT_EQ(g.compat, f.compat) << name;
    EXPECT_EQ(g.native_indirect, f.native_indirect) << name;
    EXPECT_EQ(g.nr_param, f.nr_param) << name;
    EXPECT_EQ(g.unresolved, f.unresolved) << name;
  }
  EXPECT_EQ(back->startup.native, t.startup.native);
}

TEST(ReachLibc, CachedByBuildId) {
  test::TempDir dir;
  auto elf = reach::read_elf("/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(elf);
  bool cached = true;
  auto first = reach::libc_table(*elf, dir.path(), &cached);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(cached);
  EXPECT_TRUE(std::filesystem::exists(dir.file(elf->build_id + ".json")));
  auto second = reach::libc_table(*elf, dir.path(), &cached);
  ASSERT_TRUE(second);
  EXPECT_TRUE(cached);
  EXPECT_EQ(second->functions.at("fsync").native, first->functions.at("fsync").native);
}

// data/libc_paths.csv: every row names a known flavor and role, with a source.
TEST(ReachLibc, PathsTableRows) {
  const auto& rows = reach::libc_paths();
  ASSERT_EQ(rows.size(), 15u);
  std::map<std::string, int> roles;
  for (const auto& r : rows) {
    EXPECT_TRUE(r.flavor == "glibc" || r.flavor == "musl") << r.function;
    EXPECT_FALSE(r.source.empty()) << r.function;
    ++roles[r.flavor + ":" + r.role];
  }
  EXPECT_EQ(roles, (std::map<std::string, int>{{"glibc:fatal", 8},
                                               {"glibc:startup", 1},
                                               {"glibc:cancel_request", 2},
                                               {"glibc:cancel_unwind", 1},
                                               {"musl:fatal", 3}}));
}

// Fatal code by analysis: given abort alone, the code whose every path ends
// in a call or jump to it is found (the compiler's cold parts of functions
// that call abort on an error); the functions that end the process normally
// or continue elsewhere are not fatal, and neither is __libc_fatal, whose
// __libc_message returns unless its do_abort argument is set (argument
// sensitivity is not modelled: it stays counted).
TEST(ReachCode, CodeThatNeverReturnsButThroughAbortIsFatal) {
  auto elf = reach::read_elf("/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(elf);
  std::map<std::string, std::uint64_t> addr;
  for (const auto& e : elf->exports) addr[e.name] = e.addr;
  auto g = reach::build_code_graph(*elf, {}, true, {addr.at("abort")});
  ASSERT_TRUE(g) << g.error().message;
  auto fatal = [&](const std::string& name) {
    auto c = g->chunk_at(addr.at(name));
    return c != reach::CodeGraph::npos && g->chunks[c].fatal;
  };
  EXPECT_TRUE(fatal("abort"));
  std::size_t derived = 0;
  for (const auto& c : g->chunks) derived += c.fatal;
  EXPECT_GT(derived, 10u) << "cold parts that call abort";
  for (const char* f : {"exit", "_exit", "_Exit", "quick_exit", "pthread_exit", "longjmp", "siglongjmp",
                        "__libc_start_main", "raise", "malloc", "read", "__libc_fatal"})
    EXPECT_FALSE(fatal(f)) << f;
  // With every seed of data/libc_paths.csv, more is found, and still no way
  // out of a function by returning, longjmp or thread exit counts as fatal.
  std::set<std::uint64_t> seeds;
  for (const auto& p : reach::libc_paths())
    if (p.flavor == "glibc" && p.role == "fatal") seeds.insert(addr.at(p.function));
  auto all = reach::build_code_graph(*elf, {}, true, seeds);
  ASSERT_TRUE(all);
  std::size_t more = 0;
  for (std::size_t i = 0; i < all->chunks.size(); ++i) {
    if (g->chunks[i].fatal) {
      EXPECT_TRUE(all->chunks[i].fatal) << i;
    }
    more += all->chunks[i].fatal;
  }
  EXPECT_GT(more, derived);
  for (const char* f : {"exit", "_exit", "pthread_exit", "longjmp", "__pthread_unwind_next", "thrd_exit"}) {
    auto c = all->chunk_at(addr.at(f));
    EXPECT_FALSE(all->chunks[c].fatal) << f;
  }
  // Without fatal entries nothing is fatal.
  auto plain = reach::build_code_graph(*elf, {}, true);
  ASSERT_TRUE(plain);
  for (const auto& c : plain->chunks) ASSERT_FALSE(c.fatal);
}

// A constant in position-independent code is a number, never a function's
// address: malloc's `mov $0x100000, %r8d` is no call to futimesat (whose code
// holds 0x100000 in Debian 12's glibc), so malloc reaches no utimensat.
// And what the dynamic loader calls by name (__libc_early_init) counts with
// the start-up code: it reads the stack limit (prlimit64).
TEST(ReachLibc, ImmediatesAreNoAddressesAndEarlyInitIsStartup) {
  const auto& t = host_libc();
  const auto& futimesat = t.functions.at("futimesat");
  EXPECT_TRUE(names_of(futimesat.native, "x86_64").count("utimensat"));
  const auto& malloc_reach = t.functions.at("malloc");
  EXPECT_FALSE(
      names_of(malloc_reach.native | malloc_reach.native_cancel | malloc_reach.native_fatal, "x86_64")
          .count("utimensat"));
  EXPECT_FALSE(names_of(t.startup.native | t.startup.native_cancel | t.startup.native_fatal, "x86_64")
                   .count("utimensat"));
  EXPECT_TRUE(names_of(t.functions.at("__libc_early_init").native, "x86_64").count("prlimit64"));
  EXPECT_TRUE(names_of(t.startup.native, "x86_64").count("prlimit64"));
}

// The table splits what a function reaches: fatal paths and cancellation
// paths are apart from the plain set, and the three are disjoint.
TEST(ReachLibc, FatalAndCancellationPathsApart) {
  const auto& t = host_libc();
  EXPECT_TRUE(t.cancellation_found);
  // The exported ones are exactly the seeds; the others are internal (cold parts).
  EXPECT_EQ(t.fatal_functions,
            (std::vector<std::string>{"__assert", "__assert_fail", "__assert_perror_fail", "__chk_fail",
                                      "__fortify_fail", "__libc_fatal", "__stack_chk_fail", "abort"}));
  EXPECT_GT(t.fatal_chunks, t.fatal_functions.size());
  for (const auto& [name, f] : t.functions) {
    EXPECT_TRUE((f.native & f.native_cancel).none()) << name;
    EXPECT_TRUE((f.native & f.native_fatal).none()) << name;
    EXPECT_TRUE((f.native_cancel & f.native_fatal).none()) << name;
  }
  const auto& abort_reach = t.functions.at("abort");
  EXPECT_TRUE(abort_reach.native.none());  // all of abort is a fatal path
  EXPECT_TRUE(names_of(abort_reach.native_fatal, "x86_64").count("tgkill"));
  EXPECT_TRUE(names_of(abort_reach.native_fatal, "x86_64").count("rt_sigprocmask"));
  // raise() is no fatal path: tgkill is plain there.
  EXPECT_TRUE(names_of(t.functions.at("raise").native, "x86_64").count("tgkill"));
  // read is a cancellation point: acting on a cancellation loads libgcc_s (openat) on the way.
  const auto& read_reach = t.functions.at("read");
  // (futex: leaving asynchronous cancellation waits while another thread changes the state)
  EXPECT_EQ(names_of(read_reach.native, "x86_64"), (std::set<std::string>{"futex", "read"}));
  EXPECT_TRUE(read_reach.native_cancel.any());
  EXPECT_FALSE(read_reach.requests_cancel);
  EXPECT_TRUE(t.functions.at("pthread_cancel").requests_cancel);
  EXPECT_TRUE(t.functions.at("pthread_exit").requests_cancel);
  EXPECT_TRUE(t.functions.at("thrd_exit").requests_cancel);  // through pthread_exit
  // Everything is still there: plain, cancellation and fatal make the whole closure.
  auto elf = reach::read_elf("/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(elf);
  auto g = reach::build_code_graph(*elf);
  ASSERT_TRUE(g);
  auto all = reach::closures(*g, false);
  for (const auto& e : elf->exports) {
    auto c = g->chunk_at(e.addr);
    if (c == reach::CodeGraph::npos || g->chunks[c].start != e.addr) continue;
    const auto& f = t.functions.at(e.name);
    EXPECT_EQ((all[c].native & ~(f.native | f.native_cancel | f.native_fatal)).none(), true) << e.name;
  }
}

TEST(ReachAnalysis, BranchNeverTakenIsReachable) {
  auto r = reach::analyse_paths({prog("reach_branch")}, "/", {.cache_dir = ""});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->binaries.size(), 1u);
  const auto& b = r->binaries[0];
  EXPECT_TRUE(b.error.empty()) << b.error;
  EXPECT_TRUE(b.reachable.at("x86_64").count("sched_rr_get_interval"));
  EXPECT_TRUE(b.reachable.at("x86_64").count("getppid"));
  ASSERT_EQ(b.objects.size(), 3u);
  EXPECT_EQ(b.objects[0].kind, "executable");
  EXPECT_EQ(b.objects[0].sites, 2u);
  EXPECT_EQ(b.objects[0].own.at("x86_64"), (std::set<std::string>{"getppid", "sched_rr_get_interval"}));
  // The one it makes in a branch never taken comes from its own instruction.
  for (const auto& u : b.unseen) {
    if (u.name == "sched_rr_get_interval") {
      EXPECT_EQ(u.via, (std::vector<std::string>{"a syscall instruction in " + b.objects[0].path}));
    }
  }
  std::set<std::string> kinds;
  for (const auto& o : b.objects) kinds.insert(o.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"executable", "loader", "libc"}));
  EXPECT_EQ(r->libc_flavor, "glibc");
  // Nothing was seen: everything reachable is unseen.
  EXPECT_EQ(b.unseen.size(),
            b.reachable.at("x86_64").size() + (b.reachable.count("x86") ? b.reachable.at("x86").size() : 0));
}

TEST(ReachAnalysis, ImportedButNeverCalledFunctionsCount) {
  auto r = reach::analyse_paths({prog("reach_imports")}, "/", {.cache_dir = ""});
  ASSERT_TRUE(r) << r.error().message;
  const auto& b = r->binaries.at(0);
  EXPECT_EQ(b.objects.at(0).sites, 0u);  // no syscall instruction of its own
  EXPECT_TRUE(b.reachable.at("x86_64").count("fsync"));
  EXPECT_TRUE(b.reachable.at("x86_64").count("mremap"));
  // Each unseen one names where the code that reaches it starts: fsync's own
  // wrapper, which reaches nothing else, first.
  const std::string exe = b.objects.at(0).path;
  auto unseen = [&](const std::string& name) -> const reach::UnseenSyscall& {
    auto it = std::find_if(b.unseen.begin(), b.unseen.end(),
                           [&](const auto& u) { return u.arch == "x86_64" && u.name == name; });
    EXPECT_NE(it, b.unseen.end()) << name;
    return *it;
  };
  const auto& fsync = unseen("fsync");
  ASSERT_FALSE(fsync.via.empty());
  EXPECT_EQ(fsync.via.front(), "fsync() from " + exe);
  EXPECT_LE(fsync.via.size(), reach::kMaxVia);
  EXPECT_GE(fsync.via_total, fsync.via.size());
  const auto& mremap = unseen("mremap");
  EXPECT_NE(std::find(mremap.via.begin(), mremap.via.end(), "realloc() from " + exe), mremap.via.end())
      << testing::PrintToString(mremap.via);
  // The report's entry has the same first source (one binary).
  auto top =
      std::find_if(r->unseen.begin(), r->unseen.end(), [](const auto& u) { return u.name == "fsync"; });
  ASSERT_NE(top, r->unseen.end());
  EXPECT_EQ(top->via, fsync.via);
  // prog_reach_branch imports neither fsync nor realloc, nor anything that reaches fsync.
  auto other = reach::analyse_paths({prog("reach_branch")}, "/", {.cache_dir = ""});
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->binaries.at(0).reachable.at("x86_64").count("fsync"));
}

// A binary that imports abort and nothing else that makes signal calls:
// what only abort makes is on a fatal path, not reachable. It reaches neither
// pthread_cancel nor pthread_exit: the cancellation paths are only named. One
// that imports pthread_cancel counts them.
TEST(ReachAnalysis, FatalPathsApartAndCancellationOnlyWhenRequested) {
  auto r = reach::analyse_paths({prog("reach_fatal"), prog("reach_cancel")}, "/", {.cache_dir = ""});
  ASSERT_TRUE(r) << r.error().message;
  const auto& fatal = r->binaries.at(0);
  ASSERT_TRUE(fatal.error.empty()) << fatal.error;
  ASSERT_TRUE(fatal.fatal_path.count("x86_64"));
  // abort signals the calling thread (tgkill, gettid); getpid and
  // rt_sigprocmask are reachable on other paths (the dynamic loader's own code).
  EXPECT_EQ(fatal.fatal_path.at("x86_64"), (std::set<std::string>{"gettid", "mremap", "sysinfo", "tgkill"}));
  for (const char* n : {"tgkill", "gettid"}) {
    EXPECT_TRUE(fatal.fatal_path.at("x86_64").count(n)) << n;
    EXPECT_FALSE(fatal.reachable.at("x86_64").count(n)) << n;
  }
  for (const auto& [arch, names] : fatal.fatal_path)
    for (const auto& n : names) EXPECT_FALSE(fatal.reachable.at(arch).count(n)) << n;
  EXPECT_FALSE(fatal.can_cancel);
  const auto& cancel = r->binaries.at(1);
  ASSERT_TRUE(cancel.error.empty()) << cancel.error;
  EXPECT_TRUE(cancel.can_cancel);
  EXPECT_TRUE(cancel.cancellation.empty());
  // What only cancellation reaches is never in the reachable set of the
  // binary that cannot cancel (here the loader and start-up reach it anyway).
  for (const auto& [arch, names] : fatal.cancellation)
    for (const auto& n : names) EXPECT_FALSE(fatal.reachable.at(arch).count(n)) << n;
  // pthread_cancel signals the thread: tgkill is plain there.
  EXPECT_TRUE(cancel.reachable.at("x86_64").count("tgkill"));
  // In the report: the union, minus what any binary reaches.
  EXPECT_FALSE(r->fatal_path.count("x86_64") && r->fatal_path.at("x86_64").count("tgkill"));
  for (const auto& [arch, names] : r->fatal_path)
    for (const auto& n : names) EXPECT_FALSE(r->reachable.at(arch).count(n)) << n;
}

TEST(ReachAnalysis, MissingAndScriptBinaries) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("bin"));
  test::write_text(dir.file("bin/script"), "#!/bin/nothere -e\necho\n");
  test::write_text(dir.file("bin/data"), "not a program\n");
  auto r = reach::analyse_paths({"/bin/script", "/bin/data", "/bin/absent", "relative"}, dir.path(),
                                {.cache_dir = ""});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->binaries.size(), 4u);
  EXPECT_EQ(r->binaries[0].error, "not found in the root file system");  // the interpreter /bin/nothere
  EXPECT_NE(r->binaries[1].error.find("not an ELF file"), std::string::npos) << r->binaries[1].error;
  EXPECT_EQ(r->binaries[2].error, "not found in the root file system");
  EXPECT_NE(r->binaries[3].error.find("not an absolute path"), std::string::npos);
  EXPECT_TRUE(r->estimate);
}

TEST(ReachAnalysis, AbsoluteSymlinksResolveInsideTheRoot) {
  // /bin/prog -> /elsewhere/prog inside the root; the host has no /elsewhere.
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("elsewhere"));
  std::filesystem::create_directories(dir.file("bin"));
  std::filesystem::copy_file(prog("reach_branch"), dir.file("elsewhere/prog"));
  std::filesystem::create_symlink("/elsewhere/prog", dir.file("bin/prog"));
  auto r = reach::analyse_paths({"/bin/prog"}, dir.path(), {.cache_dir = ""});
  ASSERT_TRUE(r) << r.error().message;
  const auto& b = r->binaries.at(0);
  ASSERT_TRUE(b.error.empty()) << b.error;
  EXPECT_EQ(b.objects.at(0).path, "/elsewhere/prog");
  // Neither its loader nor libc.so.6 is in this root: both are missing, never taken from the host.
  EXPECT_EQ(b.missing, (std::vector<std::string>{"/lib64/ld-linux-x86-64.so.2", "libc.so.6"}));
  EXPECT_EQ(b.objects.size(), 1u);
  EXPECT_TRUE(b.estimate);
}

reach::ReachReport report_with_unseen() {
  reach::ReachReport r;
  r.unseen = {{"x86_64", "fsync", "", {}},
              {"x86_64",
               "unshare",
               "namespaces",
               {"CVE-2022-0185"},
               {"unshare() from /bin/a", "a syscall instruction in /lib/b.so", "unshare() from /lib/c.so"},
               5},
              {"x86_64", "madvise", "", {"CVE-2016-5195"}},
              {"x86_64", "getcwd", "", {}},
              {"x86", "getpid", "", {}}};
  return r;
}

TEST(ReachSafe, LeavesOutRiskyCvePathsAndAllowed) {
  auto safe = reach::reachable_safe(report_with_unseen(), {{"x86_64", {"getcwd"}}});
  EXPECT_EQ(safe, (reach::NameSets{{"x86_64", {"fsync"}}, {"x86", {"getpid"}}}));
}

TEST(ReachJson, DocumentCountsAndSections) {
  auto r = report_with_unseen();
  r.reachable = {{"x86_64", {"fsync", "unshare", "madvise", "getcwd", "read"}}, {"x86", {"getpid"}}};
  r.seen = {{"x86_64", {"read"}}};
  auto doc = reach::to_json(r, "abc");
  EXPECT_EQ(doc["counts"]["reachable"], 6);
  EXPECT_EQ(doc["counts"]["seen"], 1);
  EXPECT_EQ(doc["counts"]["unseen"], 5);
  EXPECT_EQ(doc["counts"]["unseen_risky"], 2);
  EXPECT_EQ(doc["counts"]["reachable_safe"], 3);
  EXPECT_EQ(doc["reachable_safe"], (nlohmann::json{{"x86", {"getpid"}}, {"x86_64", {"fsync", "getcwd"}}}));
  std::string md = report::reach_markdown(doc);
  EXPECT_NE(md.find("6 syscalls reachable, 1 seen, 5 reachable but never seen (2 of them risky"),
            std::string::npos)
      << md;
  // A risky one with the first three places its code starts, and how many more there are.
  EXPECT_NE(md.find("| unshare (namespaces, CVE-2022-0185) | unshare() from /bin/a; a syscall instruction in "
                    "/lib/b.so; unshare() from /lib/c.so; and 2 more |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| madvise (CVE-2016-5195) |  |\n"), std::string::npos) << md;
  EXPECT_EQ(doc["unseen"][1]["via_total"], 5);
  EXPECT_EQ(doc["unseen"][1]["via"].size(), 3u);
  EXPECT_NE(report::reach_html(doc).find("<td>unshare() from /bin/a; a syscall instruction in /lib/b.so; "
                                         "unshare() from /lib/c.so; and 2 more</td>"),
            std::string::npos);
  EXPECT_EQ(md.find("end the process"), std::string::npos) << md;  // no fatal path: no line
  // Fatal paths: counted and named apart, never among the reachable-safe ones.
  auto with_fatal = r;
  with_fatal.fatal_path = {{"x86_64", {"tgkill"}}};
  with_fatal.seen_fatal_path = {{"x86_64", {"tgkill"}}};
  auto fdoc = reach::to_json(with_fatal, "abc");
  EXPECT_EQ(fdoc["counts"]["fatal_path"], 1);
  EXPECT_EQ(fdoc["counts"]["seen_fatal_path"], 1);
  EXPECT_EQ(fdoc["fatal_path"], (nlohmann::json{{"x86_64", {"tgkill"}}}));
  EXPECT_EQ(fdoc["reachable_safe"], doc["reachable_safe"]);
  EXPECT_NE(
      report::reach_markdown(fdoc).find("Reachable only on paths that end the process (not counted, not "
                                        "added): x86_64: tgkill"),
      std::string::npos)
      << report::reach_markdown(fdoc);
  // The section replaces an earlier one and keeps what follows.
  std::string summary = "# x\n\n## Static reachability\n\nold\n\n## Next\n\nkept\n";
  std::string updated = report::with_reach_section(summary, doc);
  EXPECT_EQ(updated.find("old"), std::string::npos);
  EXPECT_NE(updated.find("## Next\n\nkept\n"), std::string::npos);
  EXPECT_EQ(report::with_reach_section("# x\n", doc), "# x\n\n" + md);
}

TEST(ReachTrace, BinariesRoundTripAndErrors) {
  trace::Trace t;
  t.backend = "ebpf";
  t.binaries = {{"/bin/sh", 2, 1.5, {"/lib/x86_64-linux-gnu/libc.so.6"}},
                {"/usr/sbin/nginx", 0, std::nullopt, {}}};
  auto back = trace::trace_from_json(trace::to_json(t), "t.json");
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->binaries.size(), 2u);
  EXPECT_EQ(back->binaries[0].path, "/bin/sh");
  EXPECT_EQ(back->binaries[0].execs, 2u);
  EXPECT_EQ(back->binaries[0].first_exec_ms, 1.5);
  EXPECT_EQ(back->binaries[1].first_exec_ms, std::nullopt);
  EXPECT_EQ(back->binaries[0].mapped, std::vector<std::string>{"/lib/x86_64-linux-gnu/libc.so.6"});
  auto doc = trace::to_json(t);
  doc["binaries"][1]["path"] = "nginx";
  auto bad = trace::trace_from_json(doc, "t.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "t.json: binaries[1].path: expected an absolute path");
}

TEST(ReachCli, BadInputIsOneLineAndExit2) {
  using test::expect_one_line_error;
  using test::sandmine;
  test::TempDir dir;
  expect_one_line_error(sandmine({"reach", dir.file("nope")}), dir.file("nope") + ": not a directory");
  expect_one_line_error(sandmine({"reach", dir.path()}), "cannot read trace " + dir.file("trace.json"));
  test::write_text(dir.file("trace.json"), R"({"version":1,"backend":"ptrace","syscalls":[]})");
  expect_one_line_error(sandmine({"reach", dir.path()}), dir.file("trace.json") + " lists no binaries");
  test::write_text(
      dir.file("trace.json"),
      R"({"version":1,"backend":"ebpf","target":{"kind":"container","image":"0123456789abcdef"},)"
      R"("syscalls":[],"binaries":[{"path":"/bin/sh","execs":1}]})");
  expect_one_line_error(sandmine({"reach", dir.path(), "--image-cache", dir.file("cache")}),
                        "image 0123456789ab of " + dir.file("trace.json") + " is not in the image cache");
  EXPECT_FALSE(std::filesystem::exists(dir.file("reach.json")));
  auto help = sandmine({"reach", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("EXAMPLES:"), std::string::npos);
}

TEST(ReachCli, TraceOfAHostCommandReadsTheHostRoot) {
  // A `sandmine trace` document, written by hand: the analysis needs no recording.
  test::TempDir dir;
  nlohmann::json doc = {{"version", 1},
                        {"backend", "ebpf"},
                        {"target", {{"kind", "command"}, {"command", {prog("reach_branch")}}}},
                        {"syscalls", {{{"arch", "x86_64"}, {"name", "getppid"}, {"nr", 110}, {"count", 1}}}},
                        {"binaries", {{{"path", prog("reach_branch")}, {"execs", 1}}}}};
  test::write_text(dir.file("trace.json"), doc.dump());
  auto r = test::sandmine({"reach", dir.path(), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = test::read_json(dir.file("reach.json"));
  EXPECT_EQ(out["rootfs"], "/");
  EXPECT_EQ(out["counts"]["seen"], 1);
  EXPECT_EQ(out["seen"], (nlohmann::json{{"x86_64", {"getppid"}}}));
  EXPECT_EQ(out["binaries"][0]["objects"][0]["own"]["x86_64"],
            (nlohmann::json{"getppid", "sched_rr_get_interval"}));
  bool unseen = false;
  for (const auto& u : out["unseen"]) unseen |= u["name"] == "sched_rr_get_interval";
  EXPECT_TRUE(unseen);
  // A seen call no binary reaches is a gap: named, exit 1.
  doc["syscalls"].push_back({{"arch", "x86_64"}, {"name", "kexec_load"}, {"nr", 246}, {"count", 1}});
  test::write_text(dir.file("trace.json"), doc.dump());
  auto gap = test::sandmine({"reach", dir.path(), "--no-cache"});
  EXPECT_EQ(gap.exit_code, 1);
  EXPECT_NE(gap.err.find(
                "seen but unreachable (a gap in the static analysis, please report it): x86_64:kexec_load"),
            std::string::npos)
      << gap.err;
  EXPECT_EQ(test::read_json(dir.file("reach.json"))["seen_unreachable"],
            (nlohmann::json{{"x86_64", {"kexec_load"}}}));
}

}  // namespace
}  // namespace sandmine
