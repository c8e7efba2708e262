#include "reach/analysis.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>

#include "profile/explain.h"
#include "sys/files.h"
#include "sys/in_root.h"
#include "util/csv.h"

extern const char kRestartSyscallCsv[];

namespace sandmine::reach {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The x86-64 entries of an ld.so.cache in glibc's format ("glibc-ld.so.cache1.1"):
// soname -> path, first entry first (ldconfig sorts them by priority).
// Read by hand: no library reads another root's cache, and ldconfig -p reads
// the host's.
std::map<std::string, std::string> read_ld_so_cache(const std::string& data) {
  std::map<std::string, std::string> out;
  static const char kMagic[] = "glibc-ld.so.cache1.1";
  std::size_t at = data.find(kMagic, 0, sizeof kMagic - 1);
  if (at == std::string::npos) return out;
  const std::size_t header = 48, entry = 24;
  if (data.size() < at + header) return out;
  std::uint32_t nlibs;
  std::memcpy(&nlibs, data.data() + at + 20, 4);
  auto str = [&](std::uint32_t off) -> std::string {
    std::size_t p = at + off;
    if (p >= data.size()) return {};
    return std::string(data.c_str() + p, strnlen(data.c_str() + p, data.size() - p));
  };
  for (std::uint32_t i = 0; i < nlibs; ++i) {
    std::size_t e = at + header + i * entry;
    if (e + entry > data.size()) break;
    std::int32_t flags;
    std::uint32_t key, value;
    std::memcpy(&flags, data.data() + e, 4);
    std::memcpy(&key, data.data() + e + 4, 4);
    std::memcpy(&value, data.data() + e + 8, 4);
    // FLAG_ELF_LIBC6 with FLAG_X8664_LIB64 (sysdeps/generic/ldconfig.h).
    if ((flags & 0xff) != 0x03 || (flags & 0xff00) != 0x0300) continue;
    out.emplace(str(key), str(value));
  }
  return out;
}

// Exported functions of libraries that compile code at run time.
bool jit_capable(const ElfObject& o) {
  static const char* kJit[] = {"pcre2_jit_compile_8", "pcre_study",    "luaJIT_setmode",
                               "JNI_CreateJavaVM",    "mono_jit_init", "LLVMCreateExecutionEngineForModule"};
  for (const auto& e : o.exports)
    for (const char* j : kJit)
      if (e.name == j) return true;
  return false;
}

// data/restart_syscall.csv: the x86_64 syscalls after which the kernel may
// make restart_syscall from the same instruction (a signal interrupted them).
const std::set<std::string>& restarting() {
  static const std::set<std::string> names = [] {
    std::set<std::string> out;
    auto rows = parse_csv(kRestartSyscallCsv, "data/restart_syscall.csv");
    if (rows)
      for (auto& r : *rows) out.insert(r["name"]);
    return out;
  }();
  return names;
}

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

void add_set(NameSets& into, const std::string& arch, const NrSet& s) {
  for (std::size_t nr = 0; nr < s.size(); ++nr)
    if (s.test(nr)) into[arch].insert(nr_name(arch, static_cast<std::int64_t>(nr)));
}

void merge(NameSets& into, const NameSets& from) {
  for (const auto& [arch, names] : from) into[arch].insert(names.begin(), names.end());
}

NameSets minus(const NameSets& a, const NameSets& b) {
  NameSets out;
  for (const auto& [arch, names] : a) {
    auto it = b.find(arch);
    for (const auto& n : names)
      if (it == b.end() || !it->second.count(n)) out[arch].insert(n);
  }
  return out;
}

void add_source(Sources& into, const std::string& arch, const NrSet& s, const std::string& text) {
  for (std::size_t nr = 0; nr < s.size(); ++nr)
    if (s.test(nr)) into[arch][nr_name(arch, static_cast<std::int64_t>(nr))].push_back({s.count(), text});
}

// The unseen entries, each with its sources from the binaries' (in their order).
std::vector<UnseenSyscall> describe(const NameSets& unseen, const std::vector<const Sources*>& sources) {
  std::vector<UnseenSyscall> out;
  for (const auto& [arch, names] : unseen)
    for (const auto& n : names) {
      UnseenSyscall u{arch, n, {}, {}, {}, 0};
      std::vector<Source> all;
      std::set<std::string> have;
      for (const Sources* s : sources) {
        auto a = s->find(arch);
        if (a == s->end()) continue;
        auto it = a->second.find(n);
        if (it == a->second.end()) continue;
        for (const auto& v : it->second)
          if (have.insert(v.text).second) all.push_back(v);
      }
      std::stable_sort(all.begin(), all.end(),
                       [](const Source& a, const Source& b) { return a.reaches < b.reaches; });
      for (std::size_t i = 0; i < all.size() && i < kMaxVia; ++i) u.via.push_back(all[i].text);
      u.via_total = all.size();
      for (const auto& r : profile::risky_syscalls())
        if (r.name == n) u.risk = r.category;
      for (const auto& c : profile::kernel_cves()) {
        if (c.compat != (arch != "x86_64")) continue;
        bool on_path = false;
        for (const auto& need : c.needs)
          if (std::find(need.begin(), need.end(), n) != need.end()) on_path = true;
        if (on_path) u.cves.push_back(c.id);
      }
      out.push_back(std::move(u));
    }
  return out;
}

// One object, read once, analysed once.
struct Loaded {
  std::unique_ptr<ElfObject> elf;  // dropped once analysed
  ObjectInfo info;
  std::vector<std::string> needed, runpath, imports;
  std::string interp, flavor;
  bool dlopen = false, jit = false, analysed = false;
  Closure whole;
};

class Analyzer {
 public:
  Analyzer(sys::RootDir root, const ReachOptions& options) : root_(std::move(root)), options_(options) {
    if (auto fd = root_.open_file("/etc/ld.so.cache"))
      if (auto data = sys::read_file("/proc/self/fd/" + std::to_string(fd->get())))
        ld_cache_ = read_ld_so_cache(*data);
  }

  ReachReport report;

  BinaryReach binary(const std::string& path, std::uint64_t execs, const std::vector<std::string>& mapped) {
    BinaryReach b;
    b.path = path;
    b.execs = execs;
    if (path.empty() || path[0] != '/') {
      b.error = "not an absolute path: cannot tell where it was in the container";
      return b;
    }
    Loaded* exe = load(path);
    if (!exe->info.error.empty()) {
      b.error = exe->info.error;
      return b;
    }
    // The closure: the executable, its loader, DT_NEEDED breadth first, then
    // what its processes were seen to map (dlopen) and their DT_NEEDED.
    std::vector<Loaded*> objects{exe};
    std::set<std::string> have{exe->info.path};
    std::deque<Loaded*> queue{exe};
    auto add = [&](Loaded* l) {
      if (l && have.insert(l->info.path).second) {
        objects.push_back(l);
        queue.push_back(l);
      }
    };
    if (!exe->interp.empty()) {
      Loaded* ld = load(exe->interp);
      if (ld->info.error.empty()) {
        if (ld->flavor.empty()) ld->info.kind = "loader";
        add(ld);
      } else {
        b.missing.push_back(exe->interp);
      }
    }
    auto walk = [&] {
      while (!queue.empty()) {
        Loaded* l = queue.front();
        queue.pop_front();
        for (const auto& name : l->needed) {
          auto p = find_library(name, *l);
          if (p.empty()) {
            if (std::find(b.missing.begin(), b.missing.end(), name) == b.missing.end())
              b.missing.push_back(name);
            continue;
          }
          add(load(p));
        }
      }
    };
    walk();
    for (const auto& m : mapped) {
      Loaded* l = load(m);
      if (l->info.error.empty() || l->elf) add(l);
    }
    walk();

    // The C library of this closure, and its table.
    const LibcTable* table = nullptr;
    for (Loaded* l : objects)
      if (!l->flavor.empty()) {
        table = libc_table_for(*l);
        if (!table)
          b.estimate_reasons.push_back("the C library " + l->info.path +
                                       " could not be analysed: " + libc_error_);
        break;
      }
    std::map<std::string, int> nr_imports;
    if (table) nr_imports = table->nr_param_functions();

    std::uint32_t unresolved = 0;
    std::set<std::string> libc_calls;
    std::vector<std::pair<std::string, std::string>> importers;  // C library function, importing object
    std::vector<std::string> dlopeners, jits;
    for (Loaded* l : objects) {
      if (!l->flavor.empty() && table) {
        l->info.kind = "libc";
        continue;  // its functions count through the table
      }
      analyse(*l, nr_imports);
      if (!l->info.error.empty()) {
        b.estimate_reasons.push_back(l->info.path + " was not analysed: " + l->info.error);
        continue;
      }
      add_set(b.reachable, "x86_64", l->whole.native);
      add_set(b.reachable, "x86", l->whole.compat);
      add_source(b.sources, "x86_64", l->whole.native, "a syscall instruction in " + l->info.path);
      add_source(b.sources, "x86", l->whole.compat, "an int $0x80 in " + l->info.path);
      unresolved += l->whole.unresolved;
      if (table)
        for (const auto& imp : l->imports)
          if (table->functions.count(imp)) {
            libc_calls.insert(imp);
            importers.emplace_back(imp, l->info.path);
          }
      if (l->dlopen) dlopeners.push_back(l->info.path);
      if (l->jit) jits.push_back(l->info.path);
    }
    std::size_t libc_unresolved = 0, libc_nr_param = 0;
    NameSets fatal, cancel;
    if (table) {
      NrSet plain = table->startup.native, plain_cancel = table->startup.native_cancel,
            plain_fatal = table->startup.native_fatal;
      bool can_cancel = table->startup.requests_cancel;
      add_set(b.reachable, "x86", table->startup.compat);
      NrSet wide_native = table->startup.native_indirect, wide_compat = table->startup.compat_indirect;
      for (const auto& name : libc_calls) {
        const FunctionReach& f = table->functions.at(name);
        plain |= f.native;
        plain_cancel |= f.native_cancel;
        plain_fatal |= f.native_fatal;
        can_cancel = can_cancel || f.requests_cancel;
        add_set(b.reachable, "x86", f.compat);
        wide_native |= f.native_indirect;
        wide_compat |= f.compat_indirect;
        if (f.unresolved) ++libc_unresolved;
        if (f.nr_param >= 0) ++libc_nr_param;
      }
      // A cancellation acts only once one was requested: its paths count when
      // the process can request one, else they are only named.
      b.can_cancel = can_cancel;
      if (can_cancel) plain |= plain_cancel;
      add_set(b.reachable, "x86_64", plain);
      // Where it comes from: each import, then the library's own start-up.
      for (const auto& [name, object] : importers) {
        const FunctionReach& f = table->functions.at(name);
        NrSet native = f.native;
        if (can_cancel) native |= f.native_cancel;
        add_source(b.sources, "x86_64", native, name + "() from " + object);
        add_source(b.sources, "x86", f.compat, name + "() from " + object);
      }
      add_source(b.sources, "x86_64", table->startup.native, "the C library's start-up");
      add_source(b.sources, "x86", table->startup.compat, "the C library's start-up");
      if (can_cancel)
        add_source(b.sources, "x86_64", table->startup.native_cancel, "thread cancellation in the C library");
      add_set(fatal, "x86_64", plain_fatal);
      if (!can_cancel) add_set(cancel, "x86_64", plain_cancel);
      add_set(b.through_indirect, "x86_64", wide_native);
      add_set(b.through_indirect, "x86", wide_compat);
    }
    for (Loaded* l : objects) b.objects.push_back(l->info);
    // The kernel restarts some interrupted calls with restart_syscall, made
    // by the same syscall instruction.
    for (const auto& name : restarting()) {
      if (b.reachable["x86_64"].count(name)) {
        b.reachable["x86_64"].insert("restart_syscall");
        b.sources["x86_64"]["restart_syscall"].push_back(
            {1, "the kernel, restarting an interrupted " + name});
      }
      if (fatal["x86_64"].count(name)) fatal["x86_64"].insert("restart_syscall");
    }
    b.fatal_path = minus(fatal, b.reachable);
    b.cancellation = minus(cancel, b.reachable);
    b.through_indirect = minus(minus(b.through_indirect, b.reachable), b.fatal_path);

    if (!b.missing.empty())
      b.estimate_reasons.push_back(std::to_string(b.missing.size()) + " needed librar" +
                                   (b.missing.size() == 1 ? "y" : "ies") +
                                   " not found in the root file system");
    if (!dlopeners.empty())
      b.estimate_reasons.push_back("dlopen: " + std::to_string(dlopeners.size()) +
                                   " of its objects import dlopen; what they load is included only when a "
                                   "process was seen mapping it");
    if (!jits.empty())
      b.estimate_reasons.push_back("JIT: " + std::to_string(jits.size()) +
                                   " of its libraries can compile code at run time, which is not analysed");
    if (unresolved)
      b.estimate_reasons.push_back(
          std::to_string(unresolved) +
          " syscall instructions in its objects take a number that is no constant in reach");
    if (libc_unresolved)
      b.estimate_reasons.push_back(
          std::to_string(libc_unresolved) + " of the " + std::to_string(libc_calls.size()) +
          " C library functions it imports reach a syscall instruction with no constant number");
    std::size_t wide = 0;
    for (const auto& [arch, names] : b.through_indirect) wide += names.size();
    if (wide)
      b.estimate_reasons.push_back(
          "indirect calls in the C library: " + std::to_string(wide) +
          " more syscalls if one may reach any of its address-taken functions (not counted)");
    if (libc_nr_param)
      b.estimate_reasons.push_back(
          "imports syscall(): calls with a constant number are counted, others are not");
    b.estimate = !b.estimate_reasons.empty();
    return b;
  }

  const LibcTable* libc_table_for(Loaded& l) {
    if (auto it = tables_.find(l.info.path); it != tables_.end()) return &it->second;
    if (!l.elf) {
      libc_error_ = l.info.error;
      return nullptr;
    }
    bool cached = false;
    auto start = Clock::now();
    if (options_.progress) options_.progress("analysing the C library " + l.info.path);
    auto t = libc_table(*l.elf, options_.cache_dir, &cached);
    if (!t) {
      libc_error_ = t.error().message;
      return nullptr;
    }
    report.libc_path = l.info.path;
    report.libc_flavor = t->flavor;
    report.libc_build_id = t->build_id;
    report.libc_cached = cached;
    report.libc_seconds = cached ? 0 : seconds_since(start);
    l.info.kind = "libc";
    l.elf.reset();
    return &tables_.emplace(l.info.path, std::move(*t)).first->second;
  }

 private:
  Loaded* load(const std::string& path) {
    if (auto it = by_request_.find(path); it != by_request_.end()) return it->second;
    auto l = std::make_unique<Loaded>();
    l->info.path = path;
    auto fd = root_.open_file(path);
    if (!fd) {
      l->info.error = "not found in the root file system";
      return keep(path, std::move(l));
    }
    if (auto real = root_.path_of(*fd)) l->info.path = *real;
    if (auto it = by_path_.find(l->info.path); it != by_path_.end()) {
      by_request_[path] = it->second;
      return it->second;
    }
    auto elf = read_elf_fd(fd->get(), l->info.path);
    if (!elf) {
      // A script: what runs is its interpreter.
      auto head = sys::read_file("/proc/self/fd/" + std::to_string(fd->get()));
      if (head && head->rfind("#!", 0) == 0) {
        std::string line = head->substr(2, head->find('\n') - 2);
        auto b = line.find_first_not_of(" \t");
        auto e = line.find_first_of(" \t", b);
        if (b != std::string::npos) {
          std::string interp = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
          Loaded* target = load(interp);
          by_request_[path] = target;
          return target;
        }
      }
      l->info.error = elf.error().message;
      return keep(path, std::move(l));
    }
    l->info.build_id = elf->build_id;
    l->info.imports = elf->imports.size();
    l->info.kind = elf->shared && elf->interp.empty() ? "library" : "executable";
    l->needed = elf->needed;
    l->runpath = elf->runpath;
    l->imports = elf->imports;
    l->interp = elf->interp;
    l->flavor = libc_flavor(*elf);
    for (const auto& i : elf->imports)
      if (i == "dlopen" || i == "dlmopen") l->dlopen = true;
    l->jit = jit_capable(*elf);
    if (elf->machine != 62 /* EM_X86_64 */ || !elf->elf64) {
      l->info.error = "not an x86_64 ELF object (machine " + std::to_string(elf->machine) + ")";
      return keep(path, std::move(l));
    }
    l->elf = std::make_unique<ElfObject>(std::move(*elf));
    return keep(path, std::move(l));
  }

  Loaded* keep(const std::string& request, std::unique_ptr<Loaded> l) {
    Loaded* p = l.get();
    by_request_[request] = p;
    by_path_.emplace(p->info.path, p);
    all_.push_back(std::move(l));
    return p;
  }

  void analyse(Loaded& l, const std::map<std::string, int>& nr_imports) {
    if (l.analysed || !l.info.error.empty()) return;
    l.analysed = true;
    if (!l.elf) return;
    if (options_.progress) options_.progress("analysing " + l.info.path);
    auto g = build_code_graph(*l.elf, nr_imports, false);
    l.elf.reset();
    if (!g) {
      l.info.error = g.error().message;
      return;
    }
    l.whole = whole(*g);
    for (const auto& c : g->chunks) l.info.sites += c.sites;
    l.info.unresolved = l.whole.unresolved;
    add_set(l.info.own, "x86_64", l.whole.native);
    add_set(l.info.own, "x86", l.whole.compat);
  }

  // Where the dynamic loader finds a DT_NEEDED name for requester: a name
  // with a slash as is; else DT_RUNPATH/DT_RPATH ($ORIGIN expanded), the
  // root's ld.so.cache, the default directories.
  std::string find_library(const std::string& name, const Loaded& requester) {
    auto usable = [&](const std::string& p) {
      Loaded* l = load(p);
      return l->info.error.empty() || l->elf != nullptr;
    };
    if (name.find('/') != std::string::npos) return usable(name) ? name : "";
    for (std::string dir : requester.runpath) {
      for (const char* origin : {"${ORIGIN}", "$ORIGIN"})
        if (auto at = dir.find(origin); at != std::string::npos)
          dir.replace(at, std::strlen(origin), dirname_of(requester.info.path));
      if (usable(dir + "/" + name)) return dir + "/" + name;
    }
    if (auto it = ld_cache_.find(name); it != ld_cache_.end() && usable(it->second)) return it->second;
    for (const char* dir :
         {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}) {
      std::string p = std::string(dir) + "/" + name;
      if (usable(p)) return p;
    }
    return "";
  }

  sys::RootDir root_;
  const ReachOptions& options_;
  std::map<std::string, std::string> ld_cache_;
  std::vector<std::unique_ptr<Loaded>> all_;
  std::map<std::string, Loaded*> by_request_, by_path_;
  std::map<std::string, LibcTable> tables_;
  std::string libc_error_;
};

Result<ReachReport> run(const std::vector<trace::BinaryRecord>& binaries, const trace::Trace* trace,
                        const std::string& rootfs, const ReachOptions& options) {
  NameSets seen = trace ? seen_names(*trace) : NameSets{};
  auto start = Clock::now();
  if (binaries.empty())
    return Error{
        "the trace names no binaries (trace.json has no \"binaries\"): record it again with this sandmine",
        EINVAL};
  auto root = sys::RootDir::open(rootfs);
  if (!root) return root.error();
  Analyzer a(std::move(*root), options);
  a.report.rootfs = rootfs;
  a.report.seen = seen;
  for (const auto& rec : binaries) {
    BinaryReach b = a.binary(rec.path, rec.execs, rec.mapped);
    b.seen = seen;
    b.unseen = describe(minus(b.reachable, seen), {&b.sources});
    merge(a.report.reachable, b.reachable);
    merge(a.report.fatal_path, b.fatal_path);
    merge(a.report.cancellation, b.cancellation);
    if (b.estimate || !b.error.empty()) a.report.estimate = true;
    a.report.binaries.push_back(std::move(b));
  }
  std::vector<const Sources*> sources;
  for (const auto& b : a.report.binaries) sources.push_back(&b.sources);
  a.report.unseen = describe(minus(a.report.reachable, seen), sources);
  a.report.fatal_path = minus(a.report.fatal_path, a.report.reachable);
  a.report.cancellation = minus(a.report.cancellation, a.report.reachable);
  a.report.seen_unreachable = minus(minus(seen, a.report.reachable), a.report.fatal_path);
  a.report.seen_fatal_path = minus(minus(seen, a.report.reachable), a.report.seen_unreachable);
  // What the runtime made before the first program of the target ran: the
  // first exec of a file of the root file system (runc re-executes itself
  // from a memfd, /dev/fd/N, inside the container's cgroup first).
  std::optional<double> first_exec;
  for (std::size_t i = 0; i < binaries.size(); ++i) {
    const auto& b = binaries[i];
    if (a.report.binaries[i].error.empty() && b.first_exec_ms &&
        (!first_exec || *b.first_exec_ms < *first_exec))
      first_exec = b.first_exec_ms;
  }
  if (trace && first_exec)
    for (const auto& e : trace->syscalls) {
      std::string name = e.name.empty() ? "#" + std::to_string(e.nr) : e.name;
      auto it = a.report.seen_unreachable.find(e.arch);
      if (it == a.report.seen_unreachable.end() || !it->second.count(name) || e.first_seen_ms >= *first_exec)
        continue;
      it->second.erase(name);
      if (it->second.empty()) a.report.seen_unreachable.erase(it);
      a.report.before_first_exec[e.arch].insert(name);
    }
  a.report.seconds = seconds_since(start);
  return std::move(a.report);
}

}  // namespace

NameSets seen_names(const trace::Trace& trace) {
  NameSets out;
  for (const auto& e : trace.syscalls)
    out[e.arch].insert(e.name.empty() ? "#" + std::to_string(e.nr) : e.name);
  return out;
}

Result<ReachReport> analyse(const trace::Trace& trace, const std::string& rootfs,
                            const ReachOptions& options) {
  return run(trace.binaries, &trace, rootfs, options);
}

Result<ReachReport> analyse_paths(const std::vector<std::string>& paths, const std::string& rootfs,
                                  const ReachOptions& options) {
  std::vector<trace::BinaryRecord> binaries;
  for (const auto& p : paths) binaries.push_back({p, 0, std::nullopt, {}});
  return run(binaries, nullptr, rootfs, options);
}

NameSets reachable_safe(const ReachReport& report, const NameSets& allowed) {
  NameSets out;
  for (const auto& u : report.unseen) {
    if (!u.risk.empty() || !u.cves.empty() || u.name.empty() || u.name[0] == '#') continue;
    if (auto it = allowed.find(u.arch); it != allowed.end() && it->second.count(u.name)) continue;
    out[u.arch].insert(u.name);
  }
  return out;
}

}  // namespace sandmine::reach
