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
  // prog_reach_branch imports neither fsync nor realloc, nor anything that reaches fsync.
  auto other = reach::analyse_paths({prog("reach_branch")}, "/", {.cache_dir = ""});
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->binaries.at(0).reachable.at("x86_64").count("fsync"));
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
              {"x86_64", "unshare", "namespaces", {"CVE-2022-0185"}},
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
  EXPECT_NE(md.find("unshare (namespaces, CVE-2022-0185)"), std::string::npos) << md;
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
