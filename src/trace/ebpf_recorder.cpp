#include "trace/ebpf_recorder.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "bpf/recorder.h"
#include "recorder.skel.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/privilege.h"
#include "sys/spawn.h"
#include "sys/tracefs.h"
#include "syscalls/arguments.h"
#include "syscalls/syscalls.h"

namespace sandmine::trace {

namespace {

// libbpf's messages go here instead of stderr; the last one explains a failed load.
std::mutex g_libbpf_mutex;
std::string g_libbpf_last;

int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  std::lock_guard lock(g_libbpf_mutex);
  g_libbpf_last.assign(buf);
  while (!g_libbpf_last.empty() && g_libbpf_last.back() == '\n') g_libbpf_last.pop_back();
  return n;
}

Error libbpf_error(const std::string& what, int err) {
  Error e = errno_error(what, err < 0 ? -err : err);
  std::lock_guard lock(g_libbpf_mutex);
  if (!g_libbpf_last.empty()) e.message += " (libbpf: " + g_libbpf_last + ")";
  return e;
}

// Every key of a BPF hash map, copied out first: callers may delete entries.
template <class Key>
std::vector<Key> keys_of(int fd) {
  std::vector<Key> out;
  Key next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    out.push_back(next);
    prev = &out.back();  // read by the next call, before the next push_back
  }
  return out;
}

// The keys of a hash map keyed by a struct whose first field is the slot.
template <class Key>
std::vector<Key> slot_keys(int fd, int slot) {
  auto keys = keys_of<Key>(fd);
  std::erase_if(keys, [slot](const Key& k) { return k.slot != static_cast<__u32>(slot); });
  return keys;
}

}  // namespace

// --- Argument values (data/argument_rules.csv; docs/recording.md) -----------

namespace {

static_assert(SM_ARGS_MAX == sandmine::syscalls::kMaxMinedArguments);

// Fills the program's table of mined arguments (before load) and sizes its value map.
Status set_up_arguments(recorder_bpf* skel, const EbpfOptions& options) {
  if (options.max_arg_values < 1 || options.max_arg_values > (1u << 22))
    return Error{"max_arg_values must be between 1 and " + std::to_string(1u << 22), EINVAL};
  if (int err = bpf_map__set_max_entries(skel->maps.arg_values, options.max_arg_values))
    return libbpf_error("cannot size the argument value map", err);
  if (!options.record_arguments) return {};
  std::string native = syscalls::native_arch();
  for (const auto& spec : syscalls::argument_specs()) {
    auto nr = syscalls::number_of(native, spec.syscall);
    if (!nr) continue;  // not on this architecture
    if (*nr < 0 || *nr >= SM_NR_MAX)
      return Error{"the argument table's " + spec.syscall + " is number " + std::to_string(*nr) + " on " +
                   native + ", outside the recorder's range"};
    auto& out = skel->rodata->arg_specs[*nr];
    out.count = static_cast<__u8>(spec.rules.size());
    for (std::size_t i = 0; i < spec.rules.size(); ++i) {
      const auto& rule = spec.rules[i];
      out.index[i] = static_cast<__u8>(rule.index);
      out.offset[i] = rule.struct_offset < 0 ? SM_ARG_REGISTER : static_cast<__u16>(rule.struct_offset);
      out.mask[i] = rule.record_mask();
    }
    skel->rodata->arg_nrs[*nr / 64] |= 1ULL << (*nr % 64);
  }
  return {};
}

// The calls that return in the new child too (with 0), per ABI: the child's
// return is not a call of its own (bpf/recorder.bpf.c, note_violation).
void set_up_fork_numbers(recorder_bpf* skel) {
  for (int abi = 0; abi < SM_ABI_COUNT; ++abi) {
    auto arch = syscalls::arch_for_abi(abi);
    if (!arch) continue;
    for (const char* name : {"clone", "clone3", "fork", "vfork"}) {
      auto nr = syscalls::number_of(*arch, name);
      if (!nr) continue;
      auto n = syscalls::abi_number(abi, *nr);
      if (n < 0 || n >= SM_NR_MAX) continue;
      skel->rodata->fork_nrs[abi * SM_NR_WORDS + n / 64] |= 1ULL << (n % 64);
    }
  }
}

// prctl's and seccomp's numbers per ABI, -1 where there is none: the calls
// that install a filter (bpf/recorder.bpf.c, installed_first_filter).
void set_up_filter_install_numbers(recorder_bpf* skel) {
  for (int abi = 0; abi < SM_ABI_COUNT; ++abi) {
    auto arch = syscalls::arch_for_abi(abi);
    for (int i = 0; i < 2; ++i) {
      skel->rodata->filter_install_nrs[abi][i] = -1;
      if (!arch) continue;
      auto nr = syscalls::number_of(*arch, i == 0 ? "prctl" : "seccomp");
      if (nr) skel->rodata->filter_install_nrs[abi][i] = syscalls::abi_number(abi, *nr);
    }
  }
}

}  // namespace

struct EbpfRecorder::Impl {
  recorder_bpf* skel = nullptr;
  std::unique_ptr<sys::Tracefs> tracefs;
  std::unique_ptr<sys::Cgroup> root;
  std::vector<std::unique_ptr<Target>> targets;
  std::vector<bool> slot_used;
  std::vector<bool> slot_dirty;  // counted into before: zero before reuse
  int ncpus = 0;
  int records = 0;
  bool violations = false;  // sys_exit attached

  // Targets, slots and attachments change under this lock: several
  // container runs share one recorder (sandmine mine -j). The maps
  // themselves are safe to read and write from any thread.
  mutable std::mutex mutex;
  bpf_link* exit_link = nullptr;  // sys_exit attached on demand (watch)
  std::set<int> watched_slots;
  std::vector<bpf_link*> open_links;  // the open tracepoints, attached on first capture

  std::mutex current_mutex;
  Target* current = nullptr;  // the target record() is running

  ~Impl() {
    targets.clear();  // their cgroups go first; the root can only go when empty
    if (exit_link) bpf_link__destroy(exit_link);
    for (auto* link : open_links) bpf_link__destroy(link);
    if (skel) recorder_bpf__destroy(skel);
    if (root) (void)root->remove();
  }

  Status zero_slot(int slot) {
    std::vector<sm_counter> zeros(static_cast<size_t>(ncpus));
    int fd = bpf_map__fd(skel->maps.counters);
    for (__u32 i = 0; i < SM_SLOT_ENTRIES; ++i) {
      __u32 index = static_cast<__u32>(slot) * SM_SLOT_ENTRIES + i;
      if (bpf_map_update_elem(fd, &index, zeros.data(), BPF_ANY) != 0)
        return errno_error("cannot clear recorder slot " + std::to_string(slot));
    }
    delete_slot_entries<sm_odd_key>(bpf_map__fd(skel->maps.odd), slot);  // rare-path entries
    clear_arguments(slot);
    delete_slot_entries<sm_violation_key>(bpf_map__fd(skel->maps.violations), slot);
    delete_slot_entries<sm_call_key>(bpf_map__fd(skel->maps.calls), slot);
    delete_slot_entries<sm_offender_key>(bpf_map__fd(skel->maps.offenders), slot);
    delete_slot_entries<sm_exec_key>(bpf_map__fd(skel->maps.execs), slot);
    delete_slot_entries<sm_open_key>(bpf_map__fd(skel->maps.opens), slot);
    return {};
  }

  // Removes every entry of a hash map keyed by a struct whose first field is the slot.
  template <class Key>
  static void delete_slot_entries(int fd, int slot) {
    for (const auto& k : slot_keys<Key>(fd, slot)) bpf_map_delete_elem(fd, &k);
  }

  // Argument values: forgets slot's values and lost marks.
  void clear_arguments(int slot) {
    delete_slot_entries<sm_args_key>(bpf_map__fd(skel->maps.arg_values), slot);
    auto from = sm_lost_index(static_cast<__u32>(slot), 0, 0, 0);
    auto to = sm_lost_index(static_cast<__u32>(slot) + 1, 0, 0, 0);
    for (auto i = from; i < to; ++i) __atomic_store_n(&skel->bss->args_lost[i], 0, __ATOMIC_RELAXED);
  }

  // Argument values: adds slot's values, and why any are missing, to counts.
  Status read_arguments(int slot, Counts& counts) {
    int fd = bpf_map__fd(skel->maps.arg_values);
    std::vector<__u64> per_cpu(static_cast<size_t>(ncpus));
    for (const auto& key : slot_keys<sm_args_key>(fd, slot)) {
      if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;
      std::uint64_t n = 0;
      for (auto v : per_cpu) n += v;
      auto arch = syscalls::arch_for_abi(key.abi);
      if (!arch) return Error{"the recorder saw a syscall through an ABI this host does not have"};
      SyscallKey sk{*arch, syscalls::seccomp_number(key.abi, key.nr)};
      const auto* spec = syscalls::mined_arguments(sk.arch, sk.nr);
      if (!spec)
        return Error{"the recorder kept argument values of " + sk.arch + " syscall " + std::to_string(sk.nr) +
                     ", which the argument table does not mine"};
      add_values(key.armed ? counts.armed : counts.unarmed, sk,
                 ArgValues(key.value, key.value + spec->rules.size()), n);
    }
    auto native = syscalls::arch_for_abi(SM_ABI_NATIVE);
    for (__u32 armed = 0; armed < 2; ++armed)
      for (__u32 reason = 0; reason < SM_LOST_REASONS; ++reason)
        for (__u32 nr = 0; nr < SM_NR_MAX; ++nr)
          if (__atomic_load_n(
                  &skel->bss->args_lost[sm_lost_index(static_cast<__u32>(slot), armed, reason, nr)],
                  __ATOMIC_RELAXED)) {
            static constexpr std::uint8_t kBits[SM_LOST_REASONS] = {kValuesMapFull, kValuesUnreadable,
                                                                    kValuesNotStored};
            (armed ? counts.armed
                   : counts.unarmed)[SyscallKey{*native, syscalls::seccomp_number(SM_ABI_NATIVE, nr)}]
                .values_lost |= kBits[reason];
          }
    return {};
  }

  bool exit_attached() const { return exit_link != nullptr; }

  // Claims a free slot for user space against the program (split targets'
  // children take theirs there too); false when it is taken.
  bool claim(int slot) {
    auto key = static_cast<__u32>(slot);
    __u64 who = SM_CLAIM_USER;
    return bpf_map_update_elem(bpf_map__fd(skel->maps.slot_claims), &key, &who, BPF_NOEXIST) == 0;
  }

  // The children the program gave slots below the split target in parent.
  Result<std::vector<Child>> children_of(int parent) const {
    std::vector<Child> out;
    int fd = bpf_map__fd(skel->maps.children);
    for (const __u64 key : keys_of<__u64>(fd)) {
      sm_child c{};
      if (bpf_map_lookup_elem(fd, &key, &c) != 0) continue;
      if (c.parent != static_cast<__u32>(parent)) continue;
      out.push_back({.cgroup_id = key,
                     .name = std::string(c.name, strnlen(c.name, sizeof c.name)),
                     .slot = static_cast<int>(c.slot),
                     .first_ns = c.first_ns});
    }
    std::sort(out.begin(), out.end(), [](const Child& a, const Child& b) { return a.first_ns < b.first_ns; });
    return out;
  }

  // Frees a child's slot: zeroed first, so a slot the program claims is clean.
  Status release(const Child& child) {
    if (auto st = zero_slot(child.slot); !st) return st;
    __atomic_store_n(&skel->bss->capture_opens[child.slot], 0, __ATOMIC_RELAXED);
    bpf_map_delete_elem(bpf_map__fd(skel->maps.children), &child.cgroup_id);
    auto key = static_cast<__u32>(child.slot);
    if (bpf_map_delete_elem(bpf_map__fd(skel->maps.slot_claims), &key) != 0)
      return errno_error("cannot free recorder slot " + std::to_string(child.slot));
    return {};
  }

  // The files slot's processes opened while it was captured.
  Result<std::vector<OpenedFile>> opened(int slot) const {
    std::vector<OpenedFile> out;
    int fd = bpf_map__fd(skel->maps.opens);
    for (const auto& key : slot_keys<sm_open_key>(fd, slot)) {
      sm_open_value v{};
      if (bpf_map_lookup_elem(fd, &key, &v) != 0) continue;
      out.push_back(
          {std::string(key.path, strnlen(key.path, sizeof key.path)), v.reads, v.writes, v.first_ns});
    }
    std::sort(out.begin(), out.end(),
              [](const OpenedFile& a, const OpenedFile& b) { return a.path < b.path; });
    if (auto lost = __atomic_load_n(&skel->bss->opens_lost, __ATOMIC_RELAXED))
      return Error{std::to_string(lost) +
                   " opened files were not noted (too many distinct paths): the list of "
                   "files read is incomplete"};
    return out;
  }

  // Stops naming violations in slot (the program reads the flag first).
  void unwatch(int slot) {
    __atomic_store_n(&skel->bss->watched[slot], 0, __ATOMIC_RELEASE);
    auto s = static_cast<__u32>(slot);
    for (__u32 abi = 0; abi < SM_ABI_COUNT; ++abi) {
      for (__u32 w = 0; w < SM_NR_WORDS; ++w)
        __atomic_store_n(&skel->bss->allowed[sm_allowed_word(s, abi, w * 64)], 0, __ATOMIC_RELAXED);
      for (__u32 nr = 0; nr < SM_NR_MAX; ++nr)
        __atomic_store_n(&skel->bss->arg_watch[sm_arg_watch_index(s, abi, nr)], 0, __ATOMIC_RELAXED);
    }
    for (__u32 w = 0; w < SM_ARG_WATCH_MAX; ++w)
      for (__u32 i = 0; i < SM_CALL_ARGS; ++i)
        __atomic_store_n(&skel->bss->arg_watch_masks[sm_arg_mask_index(s, w, i)], 0, __ATOMIC_RELAXED);
  }
};

EbpfRecorder::EbpfRecorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EbpfRecorder::~EbpfRecorder() = default;

Result<std::unique_ptr<EbpfRecorder>> EbpfRecorder::open(const EbpfOptions& options) {
  if (auto st = sys::require_recording_privileges(); !st) return st.error();
  if (!sys::is_readable(options.btf_path))
    return Error{"no kernel BTF at " + options.btf_path +
                     ": the kernel needs CONFIG_DEBUG_INFO_BTF, or pass --btf FILE with BTF "
                     "for this kernel",
                 ENOENT};
  if (options.max_targets < 1 || options.max_targets > SM_MAX_TARGETS)
    return Error{"max_targets must be between 1 and " + std::to_string(SM_MAX_TARGETS), EINVAL};

  auto impl = std::make_unique<Impl>();
  auto tracefs = sys::Tracefs::ensure();
  if (!tracefs) return tracefs.error();
  impl->tracefs = std::make_unique<sys::Tracefs>(std::move(*tracefs));
  std::string tp = impl->tracefs->path() + "/events/raw_syscalls/sys_enter";
  std::error_code ec;
  if (!std::filesystem::exists(tp, ec))
    return Error{"this kernel has no raw_syscalls:sys_enter tracepoint (" + tp +
                     " is missing): it needs CONFIG_FTRACE_SYSCALLS",
                 ENOENT};

  auto mount = sys::cgroup2_mount();
  if (!mount) return mount.error();
  (void)sys::remove_stale_groups(*mount, "sandmine-");
  auto root = sys::Cgroup::create(*mount, "sandmine-" + std::to_string(::getpid()));
  if (!root) return root.error();
  impl->root = std::make_unique<sys::Cgroup>(std::move(*root));

  if (options.violations) {
    std::string exit_tp = impl->tracefs->path() + "/events/raw_syscalls/sys_exit";
    if (!std::filesystem::exists(exit_tp, ec))
      return Error{"this kernel has no raw_syscalls:sys_exit tracepoint (" + exit_tp +
                       " is missing): it needs CONFIG_FTRACE_SYSCALLS",
                   ENOENT};
  }
  libbpf_set_print(libbpf_log);
  impl->ncpus = libbpf_num_possible_cpus();
  if (impl->ncpus <= 0) return libbpf_error("cannot count the possible CPUs", impl->ncpus);

  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  if (options.btf_path != "/sys/kernel/btf/vmlinux") open_opts.btf_custom_path = options.btf_path.c_str();
  impl->skel = recorder_bpf__open_opts(&open_opts);
  if (!impl->skel) return libbpf_error("cannot open the recorder BPF object", errno);

  impl->skel->rodata->root_cgroup_id = impl->root->id();
  impl->skel->rodata->root_level = static_cast<__u32>(impl->root->level());
  auto targets = static_cast<__u32>(options.max_targets);
  if (int err = bpf_map__set_max_entries(impl->skel->maps.counters, targets * SM_SLOT_ENTRIES))
    return libbpf_error("cannot size the counter map", err);
  // sys_exit names violations; mining does not pay for it until a target is
  // watched (watch() attaches it). The open tracepoints wait for their first use.
  if (!options.violations) bpf_program__set_autoattach(impl->skel->progs.sys_exit, false);
  for (auto* prog : {impl->skel->progs.sys_enter_open, impl->skel->progs.sys_enter_openat,
                     impl->skel->progs.sys_enter_openat2})
    bpf_program__set_autoattach(prog, false);
  impl->skel->rodata->slot_count = targets;
  if (auto st = set_up_arguments(impl->skel, options); !st) return st.error();
  set_up_fork_numbers(impl->skel);
  set_up_filter_install_numbers(impl->skel);
  impl->violations = options.violations;
  if (int err = recorder_bpf__load(impl->skel))
    return libbpf_error("cannot load the recorder BPF program (kernel BTF " + options.btf_path + ")", err);
  if (int err = recorder_bpf__attach(impl->skel))
    return libbpf_error("cannot attach the recorder to raw_syscalls", err);

  impl->slot_used.assign(targets, false);
  impl->slot_dirty.assign(targets, false);
  return std::unique_ptr<EbpfRecorder>(new EbpfRecorder(std::move(impl)));
}

bool EbpfRecorder::mounted_tracefs() const { return impl_->tracefs && impl_->tracefs->mounted_here(); }

Result<Target*> EbpfRecorder::add_target(const std::string& name) {
  std::lock_guard lock(impl_->mutex);
  int slot = -1;
  for (size_t i = 0; i < impl_->slot_used.size(); ++i)
    // A slot of an earlier target is still claimed; a free one is claimed
    // against the program, which gives slots to split targets' children.
    if (!impl_->slot_used[i] && (impl_->slot_dirty[i] || impl_->claim(static_cast<int>(i)))) {
      slot = static_cast<int>(i);
      break;
    }
  if (slot < 0)
    return Error{"the recorder already watches " + std::to_string(impl_->slot_used.size()) +
                 " targets (its maximum)"};
  if (impl_->slot_dirty[static_cast<size_t>(slot)])
    if (auto st = impl_->zero_slot(slot); !st) return st.error();

  auto cgroup = sys::Cgroup::create(impl_->root->path(), name);
  if (!cgroup) return cgroup.error();
  auto target = std::make_unique<Target>(Target{name, std::move(*cgroup), slot});
  // .bss is mmapped: the program sees the id from this store on.
  __atomic_store_n(&impl_->skel->bss->target_ids[slot], target->cgroup.id(), __ATOMIC_RELEASE);
  impl_->slot_used[static_cast<size_t>(slot)] = true;
  impl_->slot_dirty[static_cast<size_t>(slot)] = true;
  impl_->targets.push_back(std::move(target));
  return impl_->targets.back().get();
}

Status EbpfRecorder::remove_target(Target* target) {
  std::lock_guard lock(impl_->mutex);
  __atomic_store_n(&impl_->skel->bss->target_ids[target->slot], 0, __ATOMIC_RELEASE);
  impl_->unwatch(target->slot);
  impl_->watched_slots.erase(target->slot);
  if (impl_->watched_slots.empty() && impl_->exit_link) {
    bpf_link__destroy(impl_->exit_link);
    impl_->exit_link = nullptr;
  }
  __atomic_store_n(&impl_->skel->bss->capture_opens[target->slot], 0, __ATOMIC_RELAXED);
  Status removed = target->cgroup.remove();
  // Its children's cgroups went with it: their slots are free again.
  if (__atomic_load_n(&impl_->skel->bss->split_targets[target->slot], __ATOMIC_RELAXED)) {
    __atomic_store_n(&impl_->skel->bss->split_targets[target->slot], 0, __ATOMIC_RELEASE);
    if (auto kids = impl_->children_of(target->slot))
      for (const auto& child : *kids)
        if (auto st = impl_->release(child); !st && removed) removed = st;
  }
  impl_->slot_used[static_cast<size_t>(target->slot)] = false;
  std::erase_if(impl_->targets, [&](const auto& t) { return t.get() == target; });
  return removed;
}

Result<Counts> EbpfRecorder::snapshot(const Target& target) { return snapshot_slot(target.slot); }

Result<Counts> EbpfRecorder::snapshot_slot(int slot) {
  Counts counts;
  std::vector<sm_counter> values(static_cast<size_t>(impl_->ncpus));
  int fd = bpf_map__fd(impl_->skel->maps.counters);
  for (__u32 armed = 0; armed < 2; ++armed) {
    Tallies& tallies = armed ? counts.armed : counts.unarmed;
    for (__u32 abi = 0; abi < SM_ABI_COUNT; ++abi) {
      auto arch = syscalls::arch_for_abi(static_cast<int>(abi));
      for (__u32 nr = 0; nr < SM_NR_MAX; ++nr) {
        __u32 index = static_cast<__u32>(slot) * SM_SLOT_ENTRIES + sm_counter_index(0, armed, abi, nr);
        if (bpf_map_lookup_elem(fd, &index, values.data()) != 0)
          return errno_error("cannot read the recorder's counters");
        std::uint64_t count = 0, first = 0;
        for (const auto& v : values) {
          count += v.count;
          if (v.first_ns && (!first || v.first_ns < first)) first = v.first_ns;
        }
        if (count == 0) continue;
        if (!arch) return Error{"the recorder saw a syscall through an ABI this host does not have"};
        add(tallies, SyscallKey{*arch, syscalls::seccomp_number(static_cast<int>(abi), nr)}, count, first);
      }
    }
  }
  int odd_fd = bpf_map__fd(impl_->skel->maps.odd);
  for (const auto& key : slot_keys<sm_odd_key>(odd_fd, slot)) {
    sm_odd_value v{};
    if (bpf_map_lookup_elem(odd_fd, &key, &v) != 0) continue;
    auto arch = syscalls::arch_for_abi(key.abi);
    if (!arch) return Error{"the recorder saw a syscall through an ABI this host does not have"};
    add(key.armed ? counts.armed : counts.unarmed,
        SyscallKey{*arch, syscalls::seccomp_number(key.abi, key.nr)}, v.count, v.first_ns);
  }
  if (auto st = impl_->read_arguments(slot, counts); !st) return st.error();
  return counts;
}

Status EbpfRecorder::watch(const Target& target, const Watch& watch) {
  std::lock_guard lock(impl_->mutex);
  // sys_exit runs from the first watched target on, until none is left.
  if (!impl_->violations && !impl_->exit_link) {
    impl_->exit_link = bpf_program__attach(impl_->skel->progs.sys_exit);
    if (!impl_->exit_link) {
      int err = -errno;
      impl_->exit_link = nullptr;
      return libbpf_error("cannot attach the recorder to raw_syscalls:sys_exit", err);
    }
  }
  impl_->watched_slots.insert(target.slot);
  auto slot = static_cast<__u32>(target.slot);
  impl_->unwatch(target.slot);
  for (const auto& key : watch.allowed) {
    auto abi = syscalls::abi_for_arch(key.arch);
    if (!abi)
      return Error{
          "the profile allows syscalls of architecture " + key.arch + ", which this host does not run",
          EINVAL};
    auto nr = syscalls::abi_number(*abi, key.nr);
    // Numbers outside the counted range cannot be allowed here: calls to them
    // are named as violations (none exists on x86_64 or i386).
    if (nr < 0 || nr >= SM_NR_MAX) continue;
    auto word = sm_allowed_word(slot, static_cast<__u32>(*abi), static_cast<__u32>(nr));
    impl_->skel->bss->allowed[word] |= 1ULL << (nr % 64);
  }
  static_assert(SM_ARG_WATCH_MAX == kMaxArgumentWatches && SM_CALL_ARGS == std::tuple_size_v<CallArgs>);
  static_assert((SM_ARG_MASK_ENTRIES & (SM_ARG_MASK_ENTRIES - 1)) == 0 && SM_CALL_ARGS <= SM_ARG_MASK_STRIDE);
  // The syscalls the profile decides by their arguments: one set of masks per
  // name (its numbers on every ABI share it).
  std::map<std::optional<std::string>, __u32> index_of;
  for (const auto& [key, masks] : watch.arguments) {
    auto abi = syscalls::abi_for_arch(key.arch);
    if (!abi)
      return Error{
          "the profile allows syscalls of architecture " + key.arch + ", which this host does not run",
          EINVAL};
    auto nr = syscalls::abi_number(*abi, key.nr);
    if (nr < 0 || nr >= SM_NR_MAX) continue;  // named by number, as above
    auto name = syscalls::name_of(key.arch, key.nr);
    // Numbers without a name share nothing: each gets its own masks.
    auto id = name ? name : std::optional<std::string>(key.arch + "#" + std::to_string(key.nr));
    auto [it, fresh] = index_of.emplace(id, static_cast<__u32>(index_of.size()));
    if (fresh) {
      if (it->second >= SM_ARG_WATCH_MAX) {
        impl_->unwatch(target.slot);
        return Error{"the profile decides more than " + std::to_string(SM_ARG_WATCH_MAX) +
                         " syscalls by their arguments; the recorder can watch that many",
                     E2BIG};
      }
      for (__u32 i = 0; i < SM_CALL_ARGS; ++i)
        impl_->skel->bss->arg_watch_masks[sm_arg_mask_index(slot, it->second, i)] = masks[i];
    }
    impl_->skel->bss->arg_watch[sm_arg_watch_index(slot, static_cast<__u32>(*abi), static_cast<__u32>(nr))] =
        static_cast<__u8>(it->second + 1);
  }
  // Bits first, then the flag: the program never sees a half-written set.
  __atomic_store_n(&impl_->skel->bss->watched[slot], 1, __ATOMIC_RELEASE);
  return {};
}

Result<Violations> EbpfRecorder::violations(const Target& target) {
  Violations out;
  int fd = bpf_map__fd(impl_->skel->maps.violations);
  for (const auto& key : slot_keys<sm_violation_key>(fd, target.slot)) {
    sm_violation_value v{};
    if (bpf_map_lookup_elem(fd, &key, &v) != 0) continue;
    auto arch = syscalls::arch_for_abi(key.abi);
    if (!arch) return Error{"the recorder saw a syscall through an ABI this host does not have"};
    out.rows.push_back(Violation{.key = {*arch, syscalls::seccomp_number(key.abi, key.nr)},
                                 .comm = std::string(key.comm, strnlen(key.comm, sizeof key.comm)),
                                 .count = v.count,
                                 .denied = v.denied});
  }
  // Calls of syscalls decided by their arguments: per-CPU counts, summed.
  int cfd = bpf_map__fd(impl_->skel->maps.calls);
  std::vector<sm_call_value> per_cpu(static_cast<size_t>(impl_->ncpus));
  for (const auto& ckey : slot_keys<sm_call_key>(cfd, target.slot)) {
    if (bpf_map_lookup_elem(cfd, &ckey, per_cpu.data()) != 0) continue;
    auto arch = syscalls::arch_for_abi(ckey.abi);
    if (!arch) return Error{"the recorder saw a syscall through an ABI this host does not have"};
    Violation row{.key = {*arch, syscalls::seccomp_number(ckey.abi, ckey.nr)},
                  .comm = std::string(ckey.comm, strnlen(ckey.comm, sizeof ckey.comm))};
    row.args.emplace();
    std::copy(std::begin(ckey.arg), std::end(ckey.arg), row.args->begin());
    for (const auto& v : per_cpu) {
      row.count += v.count;
      row.denied += v.denied;
    }
    if (row.count) out.rows.push_back(std::move(row));
  }
  std::sort(out.rows.begin(), out.rows.end(), [](const Violation& a, const Violation& b) {
    return std::tie(a.key, a.comm, a.args) < std::tie(b.key, b.comm, b.args);
  });
  for (const auto& who : slot_keys<sm_offender_key>(bpf_map__fd(impl_->skel->maps.offenders), target.slot))
    out.pids.insert(static_cast<int>(who.tgid));
  return out;
}

Status EbpfRecorder::health() const {
  bool exit_attached = false;
  {
    std::lock_guard lock(impl_->mutex);
    exit_attached = impl_->exit_attached();
  }
  if (auto lost = __atomic_load_n(&impl_->skel->bss->split_lost, __ATOMIC_RELAXED))
    return Error{
        std::to_string(lost) + " syscalls of containers below a split target were not counted (all " +
        std::to_string(impl_->slot_used.size()) + " recorder slots were taken): the recording is incomplete"};
  int fd = bpf_map__fd(impl_->skel->maps.errors);
  for (__u32 i = 0; i < SM_ERR_COUNT; ++i) {
    __u64 n = 0;
    if (bpf_map_lookup_elem(fd, &i, &n) != 0) return errno_error("cannot read the recorder's error counters");
    if (n == 0) continue;
    switch (i) {
      case SM_ERR_ODD_FULL:
        return Error{std::to_string(n) +
                     " syscalls were not counted (too many distinct out-of-range syscall numbers): the "
                     "recording is incomplete"};
      case SM_ERR_VIOLATIONS_FULL:
        return Error{std::to_string(n) +
                     " violations were not named (too many distinct syscall and process "
                     "name pairs): the list of violations is incomplete"};
      case SM_ERR_OFFENDERS_FULL:
        return Error{std::to_string(n) + " processes that made violations were not noted (too many)"};
      case SM_ERR_CALLS_FULL:
        return Error{std::to_string(n) +
                     " calls of syscalls the profile decides by their arguments were not "
                     "judged (too many distinct argument values and process names): the "
                     "list of violations is incomplete"};
      default:
        return Error{std::to_string(n) +
                     " syscalls were not counted (counter lookup failed): the recording "
                     "is incomplete"};
    }
  }
  for (auto* prog : {impl_->skel->progs.sys_enter, impl_->skel->progs.sys_exit}) {
    if (prog == impl_->skel->progs.sys_exit && !impl_->violations && !exit_attached) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0)
      return errno_error("cannot read the recorder program's statistics");
    if (info.recursion_misses != 0)
      return Error{"the kernel skipped the recorder " + std::to_string(info.recursion_misses) +
                   " times (recursion protection): the recording may be incomplete"};
  }
  return {};
}

Result<Counts> EbpfRecorder::snapshot() {
  std::lock_guard lock(impl_->current_mutex);
  if (!impl_->current) return Error{"no command is being recorded"};
  return snapshot(*impl_->current);
}

Result<Recording> EbpfRecorder::record(const RunOptions& options) {
  auto target = add_target("trace-" + std::to_string(++impl_->records));
  if (!target) return target.error();
  Target* t = *target;
  struct Cleanup {
    EbpfRecorder* self;
    Target* t;
    ~Cleanup() {
      {
        std::lock_guard lock(self->impl_->current_mutex);
        self->impl_->current = nullptr;
      }
      (void)self->remove_target(t);
    }
  } cleanup{this, t};

  auto procs = t->cgroup.open_procs();
  if (!procs) return procs.error();
  auto kill_switch = sys::KillSwitch::arm(t->cgroup.path());
  if (!kill_switch) return kill_switch.error();
  {
    std::lock_guard lock(impl_->current_mutex);
    impl_->current = t;
  }

  Recording rec;
  rec.start_ns = monotonic_ns();
  if (options.watch)
    if (auto st = watch(*t, *options.watch); !st) return st.error();
  auto child = sys::spawn({.argv = options.argv,
                           .executable = options.executable,
                           .cgroup_procs_fd = procs->get(),
                           .allow_all_filter = options.recording_filter && options.seccomp_filter.empty(),
                           .seccomp_filter = options.seccomp_filter});
  if (!child) return child.error();
  procs->reset();
  if (auto st = child->exec_status(true); !st) {
    (void)child->wait();
    return Error{"cannot run " + options.argv[0] + ": " + st.error().message, st.error().errnum};
  }

  auto wstatus = child->wait();
  if (!wstatus)
    return Error{"cannot wait for " + options.argv[0] + ": " + wstatus.error().message,
                 wstatus.error().errnum};
  rec.exit = ExitStatus::from_wait(*wstatus);
  // The command's own process has ended; its descendants may not have.
  for (;;) {
    auto busy = t->cgroup.populated();
    if (!busy) return busy.error();
    if (!*busy) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  rec.end_ns = monotonic_ns();
  rec.interrupted_by = sys::interrupt_signal();

  auto counts = snapshot(*t);
  if (!counts) return counts.error();
  rec.counts = std::move(*counts);
  if (options.watch) {
    auto seen = violations(*t);
    if (!seen) return seen.error();
    rec.violations = std::move(*seen);
  }
  if (auto st = health(); !st) return st.error();
  auto ran = execs(*t);
  if (!ran) return ran.error();
  rec.execs = std::move(*ran);
  return rec;
}

// ---- Executables (sandmine reach) ----

Result<std::vector<ExecCount>> EbpfRecorder::execs(const Target& target) { return execs_slot(target.slot); }

Result<std::vector<ExecCount>> EbpfRecorder::execs_slot(int slot) {
  std::vector<ExecCount> out;
  int fd = bpf_map__fd(impl_->skel->maps.execs);
  for (const auto& key : slot_keys<sm_exec_key>(fd, slot)) {
    sm_exec_value v{};
    if (bpf_map_lookup_elem(fd, &key, &v) != 0) continue;
    out.push_back({std::string(key.path, strnlen(key.path, sizeof key.path)), v.count, v.first_ns});
  }
  std::sort(out.begin(), out.end(), [](const ExecCount& a, const ExecCount& b) { return a.path < b.path; });
  __u32 zero = 0;
  __u64 lost = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.exec_errors), &zero, &lost) != 0)
    return errno_error("cannot read the recorder's exec error counter");
  if (lost)
    return Error{std::to_string(lost) +
                 " executions were not noted (too many distinct executables): the list of "
                 "binaries is incomplete"};
  return out;
}

}  // namespace sandmine::trace

// ---- Split targets (sandmine record) ----

namespace sandmine::trace {

Status EbpfRecorder::split(const Target& target) {
  __atomic_store_n(&impl_->skel->bss->split_targets[target.slot], 1, __ATOMIC_RELEASE);
  return {};
}

Result<std::vector<Child>> EbpfRecorder::children(const Target& target) {
  return impl_->children_of(target.slot);
}

Result<Counts> EbpfRecorder::snapshot(const Child& child) { return snapshot_slot(child.slot); }

Result<std::vector<ExecCount>> EbpfRecorder::execs(const Child& child) { return execs_slot(child.slot); }

Status EbpfRecorder::release(const Child& child) {
  std::lock_guard lock(impl_->mutex);
  return impl_->release(child);
}

// ---- Files opened for reading ----

Status EbpfRecorder::capture_opens(const Target& target, bool on) {
  std::lock_guard lock(impl_->mutex);
  if (on && impl_->open_links.empty()) {
    for (auto* prog : {impl_->skel->progs.sys_enter_open, impl_->skel->progs.sys_enter_openat,
                       impl_->skel->progs.sys_enter_openat2}) {
      bpf_link* link = bpf_program__attach(prog);
      if (!link) {
        int err = -errno;
        for (auto* l : impl_->open_links) bpf_link__destroy(l);
        impl_->open_links.clear();
        return libbpf_error(std::string("cannot attach the recorder to syscalls:") + bpf_program__name(prog),
                            err);
      }
      impl_->open_links.push_back(link);
    }
  }
  __atomic_store_n(&impl_->skel->bss->capture_opens[target.slot], on ? 1 : 0, __ATOMIC_RELEASE);
  return {};
}

Result<std::vector<OpenedFile>> EbpfRecorder::opened(const Target& target) {
  return impl_->opened(target.slot);
}

Result<std::vector<OpenedFile>> EbpfRecorder::opened(const Child& child) { return impl_->opened(child.slot); }

}  // namespace sandmine::trace
