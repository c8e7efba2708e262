#include "reach/code_graph.h"

#include <capstone/capstone.h>
#include <elf.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>

namespace sandmine::reach {

namespace {

// General-purpose register families: a write to %eax is a write to %rax.
enum Family : std::int8_t {
  kNone = -1,
  kRax,
  kRcx,
  kRdx,
  kRbx,
  kRsp,
  kRbp,
  kRsi,
  kRdi,
  kR8,
  kR9,
  kR10,
  kR11,
  kR12,
  kR13,
  kR14,
  kR15
};

Family family_of(unsigned reg) {
  switch (reg) {
    case X86_REG_RAX:
    case X86_REG_EAX:
    case X86_REG_AX:
    case X86_REG_AL:
    case X86_REG_AH:
      return kRax;
    case X86_REG_RCX:
    case X86_REG_ECX:
    case X86_REG_CX:
    case X86_REG_CL:
    case X86_REG_CH:
      return kRcx;
    case X86_REG_RDX:
    case X86_REG_EDX:
    case X86_REG_DX:
    case X86_REG_DL:
    case X86_REG_DH:
      return kRdx;
    case X86_REG_RBX:
    case X86_REG_EBX:
    case X86_REG_BX:
    case X86_REG_BL:
    case X86_REG_BH:
      return kRbx;
    case X86_REG_RSP:
    case X86_REG_ESP:
    case X86_REG_SP:
    case X86_REG_SPL:
      return kRsp;
    case X86_REG_RBP:
    case X86_REG_EBP:
    case X86_REG_BP:
    case X86_REG_BPL:
      return kRbp;
    case X86_REG_RSI:
    case X86_REG_ESI:
    case X86_REG_SI:
    case X86_REG_SIL:
      return kRsi;
    case X86_REG_RDI:
    case X86_REG_EDI:
    case X86_REG_DI:
    case X86_REG_DIL:
      return kRdi;
    case X86_REG_R8:
    case X86_REG_R8D:
    case X86_REG_R8W:
    case X86_REG_R8B:
      return kR8;
    case X86_REG_R9:
    case X86_REG_R9D:
    case X86_REG_R9W:
    case X86_REG_R9B:
      return kR9;
    case X86_REG_R10:
    case X86_REG_R10D:
    case X86_REG_R10W:
    case X86_REG_R10B:
      return kR10;
    case X86_REG_R11:
    case X86_REG_R11D:
    case X86_REG_R11W:
    case X86_REG_R11B:
      return kR11;
    case X86_REG_R12:
    case X86_REG_R12D:
    case X86_REG_R12W:
    case X86_REG_R12B:
      return kR12;
    case X86_REG_R13:
    case X86_REG_R13D:
    case X86_REG_R13W:
    case X86_REG_R13B:
      return kR13;
    case X86_REG_R14:
    case X86_REG_R14D:
    case X86_REG_R14W:
    case X86_REG_R14B:
      return kR14;
    case X86_REG_R15:
    case X86_REG_R15D:
    case X86_REG_R15W:
    case X86_REG_R15B:
      return kR15;
    default:
      return kNone;
  }
}

// The System V argument registers, in order.
int param_index(int family) {
  switch (family) {
    case kRdi:
      return 0;
    case kRsi:
      return 1;
    case kRdx:
      return 2;
    case kRcx:
      return 3;
    case kR8:
      return 4;
    case kR9:
      return 5;
    default:
      return -1;
  }
}
constexpr Family kParamRegs[] = {kRdi, kRsi, kRdx, kRcx, kR8, kR9};
// What a call may change (the System V caller-saved registers).
constexpr std::uint32_t kCallerSaved = (1u << kRax) | (1u << kRcx) | (1u << kRdx) | (1u << kRsi) |
                                       (1u << kRdi) | (1u << kR8) | (1u << kR9) | (1u << kR10) | (1u << kR11);

enum class Kind : std::uint8_t { other, call, jump, cond_jump, ret, stop, syscall, int80, sysenter };

// One decoded instruction, reduced to what the analysis reads.
struct Insn {
  std::uint64_t addr = 0;
  std::uint64_t target = 0;  // direct branch target, or the memory slot of a rip-relative branch
  std::int64_t imm = 0;      // mov's immediate
  std::uint32_t writes = 0;  // register families written
  Kind kind = Kind::other;
  bool direct = false;          // target is an immediate
  bool through_memory = false;  // rip-relative memory operand (target is the slot)
  std::int8_t dst = kNone;      // mov/xor destination family (4- or 8-byte write)
  std::int8_t src = kNone;      // mov source family (4- or 8-byte read)
  bool src_imm = false;         // mov dst, imm
  bool zero = false;            // xor/sub dst, dst
  std::uint8_t size = 0;
};

struct Decoder {
  csh handle = 0;
  cs_insn* insn = nullptr;
  Decoder() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return;
    cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
    insn = cs_malloc(handle);
  }
  ~Decoder() {
    if (insn) cs_free(insn, 1);
    if (handle) cs_close(&handle);
  }
  bool ok() const { return insn != nullptr; }

  // Decodes [start, end) of section s; undecodable bytes are skipped one by one.
  std::vector<Insn> decode(const CodeSection& s, std::uint64_t start, std::uint64_t end) {
    std::vector<Insn> out;
    const std::uint8_t* code = s.bytes.data() + (start - s.addr);
    std::size_t size = end - start;
    std::uint64_t addr = start;
    while (size > 0) {
      if (!cs_disasm_iter(handle, &code, &size, &addr, insn)) {
        ++code;
        --size;
        ++addr;
        continue;
      }
      out.push_back(reduce(*insn));
    }
    return out;
  }

  Insn reduce(const cs_insn& in) const {
    Insn r;
    r.addr = in.address;
    r.size = static_cast<std::uint8_t>(in.size);
    const cs_x86& x = in.detail->x86;
    for (std::uint8_t i = 0; i < in.detail->regs_write_count; ++i)
      if (auto f = family_of(in.detail->regs_write[i]); f != kNone) r.writes |= 1u << f;
    for (std::uint8_t i = 0; i < x.op_count; ++i)
      if (x.operands[i].type == X86_OP_REG && (x.operands[i].access & CS_AC_WRITE))
        if (auto f = family_of(x.operands[i].reg); f != kNone) r.writes |= 1u << f;
    auto branch_target = [&] {
      if (x.op_count < 1) return;
      const cs_x86_op& op = x.operands[0];
      if (op.type == X86_OP_IMM) {
        r.direct = true;
        r.target = static_cast<std::uint64_t>(op.imm);
      } else if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP && op.mem.index == X86_REG_INVALID) {
        r.through_memory = true;
        r.target = in.address + in.size + static_cast<std::uint64_t>(op.mem.disp);
      }
    };
    switch (in.id) {
      case X86_INS_CALL:
        r.kind = Kind::call;
        branch_target();
        return r;
      case X86_INS_JMP:
        r.kind = Kind::jump;
        branch_target();
        return r;
      case X86_INS_RET:
      case X86_INS_RETF:
      case X86_INS_RETFQ:
      case X86_INS_IRET:
      case X86_INS_IRETD:
      case X86_INS_IRETQ:
      case X86_INS_SYSRET:
      case X86_INS_SYSEXIT:
        r.kind = Kind::ret;
        return r;
      case X86_INS_HLT:
      case X86_INS_UD2:
      case X86_INS_INT3:
        r.kind = Kind::stop;
        return r;
      case X86_INS_SYSCALL:
        r.kind = Kind::syscall;
        r.writes |= (1u << kRax) | (1u << kRcx) | (1u << kR11);
        return r;
      case X86_INS_SYSENTER:
        r.kind = Kind::sysenter;
        r.writes |= 1u << kRax;
        return r;
      case X86_INS_INT:
        if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM && x.operands[0].imm == 0x80) {
          r.kind = Kind::int80;
          r.writes |= 1u << kRax;
        }
        return r;
      default:
        break;
    }
    if (cs_insn_group(handle, &in, CS_GRP_JUMP)) {
      r.kind = Kind::cond_jump;
      branch_target();
      return r;
    }
    if ((in.id == X86_INS_MOV || in.id == X86_INS_MOVABS) && x.op_count == 2 &&
        x.operands[0].type == X86_OP_REG && x.operands[0].size >= 4) {
      r.dst = family_of(x.operands[0].reg);
      if (x.operands[1].type == X86_OP_IMM) {
        r.src_imm = true;
        r.imm = x.operands[0].size == 4
                    ? static_cast<std::int64_t>(static_cast<std::uint32_t>(x.operands[1].imm))
                    : x.operands[1].imm;
      } else if (x.operands[1].type == X86_OP_REG && x.operands[1].size >= 4) {
        r.src = family_of(x.operands[1].reg);
      }
      return r;
    }
    if ((in.id == X86_INS_XOR || in.id == X86_INS_SUB) && x.op_count == 2 &&
        x.operands[0].type == X86_OP_REG && x.operands[1].type == X86_OP_REG &&
        x.operands[0].reg == x.operands[1].reg && x.operands[0].size >= 4) {
      r.dst = family_of(x.operands[0].reg);
      r.zero = true;
      return r;
    }
    if (in.id == X86_INS_LEA && x.op_count == 2 && x.operands[1].type == X86_OP_MEM &&
        x.operands[1].mem.base == X86_REG_RIP && x.operands[1].mem.index == X86_REG_INVALID) {
      r.through_memory = true;  // an address loaded: address-taken when it is a chunk start
      r.target = in.address + in.size + static_cast<std::uint64_t>(x.operands[1].mem.disp);
    }
    return r;
  }
};

// One value a register may hold at a point.
struct Value {
  enum Kind : std::uint8_t { constant, param, unknown } kind = unknown;
  std::int64_t v = 0;
  auto operator<=>(const Value&) const = default;
};

// Backward search, within one chunk, for the values a register holds just
// before an instruction: through moves and the chunk's own branches.
class ValueFinder {
 public:
  explicit ValueFinder(const std::vector<Insn>& ins) : ins_(ins) {
    for (std::size_t i = 0; i < ins.size(); ++i) index_[ins[i].addr] = i;
    for (std::size_t i = 0; i < ins.size(); ++i)
      if ((ins[i].kind == Kind::jump || ins[i].kind == Kind::cond_jump) && ins[i].direct)
        if (auto it = index_.find(ins[i].target); it != index_.end()) preds_[it->second].push_back(i);
  }

  std::set<Value> before(std::size_t at, int family) {
    std::set<Value> out;
    std::set<std::pair<std::size_t, int>> visited;
    int budget = 256;
    before(at, family, out, visited, budget);
    return out;
  }

  std::size_t index_of(std::uint64_t addr) const {
    auto it = index_.find(addr);
    return it == index_.end() ? ins_.size() : it->second;
  }

 private:
  void before(std::size_t i, int f, std::set<Value>& out, std::set<std::pair<std::size_t, int>>& visited,
              int& budget) {
    if (!visited.insert({i, f}).second) return;
    if (--budget <= 0) {
      out.insert({Value::unknown, 0});
      return;
    }
    std::vector<std::size_t> preds;
    if (auto it = preds_.find(i); it != preds_.end()) preds = it->second;
    if (i == 0) {
      int k = param_index(f);
      out.insert(k >= 0 ? Value{Value::param, k} : Value{Value::unknown, 0});
    } else {
      Kind k = ins_[i - 1].kind;
      if (k != Kind::jump && k != Kind::ret && k != Kind::stop) preds.push_back(i - 1);
    }
    if (preds.empty() && i != 0) out.insert({Value::unknown, 0});  // entered through a jump table
    for (std::size_t p : preds) effect(p, f, out, visited, budget);
  }

  void effect(std::size_t p, int f, std::set<Value>& out, std::set<std::pair<std::size_t, int>>& visited,
              int& budget) {
    const Insn& in = ins_[p];
    if (in.kind == Kind::call && (kCallerSaved >> f) & 1) {
      out.insert({Value::unknown, 0});
      return;
    }
    if (in.dst == f) {
      if (in.src_imm)
        out.insert({Value::constant, in.imm});
      else if (in.zero)
        out.insert({Value::constant, 0});
      else if (in.src != kNone)
        before(p, in.src, out, visited, budget);
      else
        out.insert({Value::unknown, 0});
      return;
    }
    if ((in.writes >> f) & 1) {
      out.insert({Value::unknown, 0});
      return;
    }
    before(p, f, out, visited, budget);
  }

  const std::vector<Insn>& ins_;
  std::unordered_map<std::uint64_t, std::size_t> index_;
  std::unordered_map<std::size_t, std::vector<std::size_t>> preds_;
};

// A direct call or jump out of a chunk, kept for resolving nr-taking callees.
struct Site {
  std::uint64_t addr;
  std::uint32_t chunk;  // target chunk, or npos for an import
  std::string import;
};

std::uint32_t sat_add(std::uint32_t a, std::uint32_t b) { return a > ~0u - b ? ~0u : a + b; }

void add_number(Chunk& c, bool compat, std::int64_t nr) {
  if (nr >= 0 && nr < kMaxNr) {
    (compat ? c.compat : c.native).set(static_cast<std::size_t>(nr));
  } else {
    ++c.unresolved;  // not a syscall number this table can hold (e.g. a flag-carrying x32 number)
  }
}

// Whether chunk ci never returns because every path through its
// instructions ins ends in a call or jump to a chunk of fatal (and at least
// one does). A return, an indirect jump, a jump to other code, or running
// off the chunk's end is a way out; a trap (hlt, ud2, int3) ends a path
// without being one.
bool never_returns(const CodeGraph& g, std::uint32_t ci, const std::vector<Insn>& ins, const ElfObject& o,
                   const std::vector<bool>& fatal, const std::vector<bool>& may_leave) {
  const Chunk& c = g.chunks[ci];
  if (ins.empty()) return false;
  enum { out, to_fatal, inside };
  auto where = [&](const Insn& in) {
    std::uint64_t t;
    if (in.direct)
      t = in.target;
    else if (in.through_memory && o.got_locals.count(in.target))
      t = o.got_locals.at(in.target);
    else
      return out;
    if (t >= c.start && t < c.end) return inside;
    auto tc = g.chunk_at(t);
    return tc != CodeGraph::npos && fatal[tc] && g.chunks[tc].start == t ? to_fatal : out;
  };
  std::unordered_map<std::uint64_t, std::size_t> index;
  for (std::size_t i = 0; i < ins.size(); ++i) index[ins[i].addr] = i;
  std::vector<bool> visited(ins.size(), false);
  std::vector<std::size_t> todo{0};
  bool reaches_fatal = false;
  // The next instruction, or a way out when the chunk ends here.
  auto next = [&](std::size_t i) {
    if (i + 1 >= ins.size()) return false;
    todo.push_back(i + 1);
    return true;
  };
  while (!todo.empty()) {
    std::size_t i = todo.back();
    todo.pop_back();
    if (visited[i]) continue;
    visited[i] = true;
    const Insn& in = ins[i];
    switch (in.kind) {
      case Kind::ret:
        return false;
      case Kind::stop:
        break;
      case Kind::jump:
      case Kind::cond_jump: {
        auto w = where(in);
        if (w == to_fatal) {
          reaches_fatal = true;
        } else if (w == inside) {
          auto it = index.find(in.target);
          if (it == index.end()) return false;  // into the middle of an instruction: give up
          todo.push_back(it->second);
        } else {
          return false;  // a tail call, an indirect jump
        }
        if (in.kind == Kind::cond_jump && !next(i)) return false;
        break;
      }
      case Kind::call: {
        auto w = where(in);
        if (w == to_fatal) {
          reaches_fatal = true;
          break;
        }
        // A call through a pointer, or to code that may leave by another
        // way than returning (longjmp, the unwinder, a thread's exit): this
        // path may go on elsewhere.
        if (w == out) {
          if (!in.direct && !(in.through_memory && o.got_locals.count(in.target))) return false;
          std::uint64_t t = in.direct ? in.target : o.got_locals.at(in.target);
          auto tc = g.chunk_at(t);
          if (tc == CodeGraph::npos || may_leave[tc]) return false;
        }
        if (!next(i)) return false;
        break;
      }
      default:
        if (!next(i)) return false;
        break;
    }
  }
  return reaches_fatal;
}

}  // namespace

std::uint32_t CodeGraph::chunk_at(std::uint64_t addr) const {
  auto it = std::upper_bound(chunks.begin(), chunks.end(), addr,
                             [](std::uint64_t a, const Chunk& c) { return a < c.start; });
  if (it == chunks.begin()) return npos;
  --it;
  return addr < it->end ? static_cast<std::uint32_t>(it - chunks.begin()) : npos;
}

Result<CodeGraph> build_code_graph(const ElfObject& o, const std::map<std::string, int>& nr_param_imports,
                                   bool full, const std::set<std::uint64_t>& fatal_entries) {
  if (o.machine != EM_X86_64)
    return Error{o.path + ": not x86_64 code (ELF machine " + std::to_string(o.machine) +
                     "): sandmine's static analysis reads x86_64 objects only",
                 ENOEXEC};
  Decoder dec;
  if (!dec.ok()) return Error{"capstone cannot disassemble x86_64 here (cs_open failed)"};

  CodeGraph g;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ignored;  // lazy-binding PLT0: the resolver
  std::vector<std::size_t> chunk_section;
  for (std::size_t si = 0; si < o.code.size(); ++si) {
    const CodeSection& s = o.code[si];
    std::uint64_t end = s.addr + s.bytes.size();
    std::vector<std::uint64_t> starts{s.addr};
    auto add = [&](std::uint64_t a) {
      if (a > s.addr && a < end) starts.push_back(a);
    };
    for (auto a : o.function_starts) add(a);
    for (const auto& e : o.exports) add(e.addr);
    for (auto a : o.entry_points) add(a);
    for (auto a : o.data_code_pointers) add(a);
    if (s.entsize)
      for (std::uint64_t a = s.addr + s.entsize; a < end; a += s.entsize) add(a);
    if (s.name == ".plt" && s.entsize) ignored.push_back({s.addr, s.addr + s.entsize});
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    for (std::size_t i = 0; i < starts.size(); ++i) {
      Chunk c;
      c.start = starts[i];
      c.end = i + 1 < starts.size() ? starts[i + 1] : end;
      g.chunks.push_back(std::move(c));
      chunk_section.push_back(si);
    }
  }
  // Sections are sorted by address in practice; keep chunk_at's order whatever they are.
  {
    std::vector<std::size_t> order(g.chunks.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](auto a, auto b) { return g.chunks[a].start < g.chunks[b].start; });
    std::vector<Chunk> chunks;
    std::vector<std::size_t> sections;
    for (auto i : order) {
      chunks.push_back(std::move(g.chunks[i]));
      sections.push_back(chunk_section[i]);
    }
    g.chunks = std::move(chunks);
    chunk_section = std::move(sections);
  }
  auto is_ignored = [&](std::uint64_t a) {
    for (auto [b, e] : ignored)
      if (a >= b && a < e) return true;
    return false;
  };

  std::vector<std::vector<Site>> sites(g.chunks.size());
  std::vector<std::vector<std::uint32_t>> callers(g.chunks.size());
  std::vector<bool> taken(g.chunks.size(), false), decoded(g.chunks.size(), false);
  // The instructions of every chunk, kept for finding the fatal ones.
  const bool find_fatal = full && !fatal_entries.empty();
  std::vector<std::vector<Insn>> kept(find_fatal ? g.chunks.size() : 0);
  auto take = [&](std::uint64_t a) {
    auto c = g.chunk_at(a);
    if (c != CodeGraph::npos && g.chunks[c].start == a) taken[c] = true;
  };
  for (auto a : o.data_code_pointers) take(a);

  // The per-chunk pass: its syscall sites, calls, jumps and taken addresses.
  auto decode_chunk = [&](std::uint32_t ci) {
    if (decoded[ci]) return;
    decoded[ci] = true;
    Chunk& c = g.chunks[ci];
    if (is_ignored(c.start)) return;
    auto ins = dec.decode(o.code[chunk_section[ci]], c.start, c.end);
    g.instructions += ins.size();
    std::unique_ptr<ValueFinder> finder;
    auto values = [&](std::size_t i, int family) {
      if (!finder) finder = std::make_unique<ValueFinder>(ins);
      return finder->before(i, family);
    };
    for (std::size_t i = 0; i < ins.size(); ++i) {
      const Insn& in = ins[i];
      switch (in.kind) {
        case Kind::syscall:
        case Kind::int80:
        case Kind::sysenter: {
          bool compat = in.kind != Kind::syscall;
          ++c.sites;
          for (const Value& v : values(i, kRax)) {
            if (v.kind == Value::constant) {
              add_number(c, compat, v.v);
            } else if (v.kind == Value::param && c.nr_param < 0) {
              c.nr_param = static_cast<int>(v.v);
              c.nr_param_compat = compat;
            } else if (v.kind != Value::param || c.nr_param != v.v) {
              ++c.unresolved;
            }
          }
          break;
        }
        case Kind::call:
        case Kind::jump:
        case Kind::cond_jump: {
          if (in.direct) {
            if (in.target >= c.start && in.target < c.end) break;  // inside the chunk
            if (is_ignored(in.target)) break;                      // the lazy-binding resolver
            auto t = g.chunk_at(in.target);
            if (t == CodeGraph::npos) break;  // outside the code: nothing to follow
            c.callees.push_back(t);
            sites[ci].push_back({in.addr, t, {}});
            callers[t].push_back(ci);
          } else if (in.through_memory && o.got_locals.count(in.target)) {
            // The object's own interposable function, called through its GOT.
            auto t = g.chunk_at(o.got_locals.at(in.target));
            if (t == CodeGraph::npos || t == ci) break;
            c.callees.push_back(t);
            sites[ci].push_back({in.addr, t, {}});
            callers[t].push_back(ci);
          } else if (in.through_memory && o.got_imports.count(in.target)) {
            const std::string& name = o.got_imports.at(in.target);
            c.imports.push_back(name);
            sites[ci].push_back({in.addr, CodeGraph::npos, name});
          } else if (in.kind == Kind::call) {
            ++c.indirect_calls;
          } else {
            ++c.indirect_jumps;
          }
          break;
        }
        default: {
          // An address loaded (lea, or an immediate in non-PIC code): when it is
          // a function's, this chunk hands it on (a signal restorer, a thread's
          // start routine, a callback): count it as called from here.
          // Position-independent code (ET_DYN: libraries, PIEs) cannot hold an
          // absolute address in an immediate without a text relocation, so
          // there an immediate is a number, never a function (malloc's
          // `mov $0x100000, %r8d` is no call to the function at 0x100000).
          bool imm_address = in.src_imm && in.imm > 0 && !o.shared;
          std::uint64_t a = in.through_memory ? in.target
                            : imm_address     ? static_cast<std::uint64_t>(in.imm)
                                              : 0;
          if (!a) break;
          take(a);
          auto t = g.chunk_at(a);
          if (t == CodeGraph::npos || t == ci) break;
          // Inside another function too for a rip-relative address: glibc's
          // signal restorer starts one byte after its FDE (the unwinder's
          // convention for signal frames). An immediate counts only at a start.
          if (in.through_memory || g.chunks[t].start == a) c.callees.push_back(t);
          break;
        }
      }
    }
    std::sort(c.callees.begin(), c.callees.end());
    c.callees.erase(std::unique(c.callees.begin(), c.callees.end()), c.callees.end());
    std::sort(c.imports.begin(), c.imports.end());
    c.imports.erase(std::unique(c.imports.begin(), c.imports.end()), c.imports.end());
    if (find_fatal) kept[ci] = std::move(ins);
  };

  // Without the call graph, only chunks that can hold a syscall instruction or
  // a branch to something nr-taking need decoding: raw bytes say which (a
  // false match only costs a decode).
  auto bytes_of = [&](std::uint32_t ci) {
    const CodeSection& s = o.code[chunk_section[ci]];
    const Chunk& c = g.chunks[ci];
    return std::pair{s.bytes.data() + (c.start - s.addr), static_cast<std::size_t>(c.end - c.start)};
  };
  // Decodes every chunk with a direct branch to one of targets, or a
  // rip-relative call or jump through one of slots.
  auto decode_branching_to = [&](const std::set<std::uint64_t>& targets,
                                 const std::set<std::uint64_t>& slots) {
    if (targets.empty() && slots.empty()) return;
    for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci) {
      if (decoded[ci]) continue;
      auto [p, n] = bytes_of(ci);
      std::uint64_t base = g.chunks[ci].start;
      bool hit = false;
      auto rel32 = [&](std::size_t i) {
        std::int32_t v;
        std::memcpy(&v, p + i, 4);
        return static_cast<std::int64_t>(v);
      };
      for (std::size_t i = 0; i < n && !hit; ++i) {
        std::uint8_t b = p[i];
        if ((b == 0xe8 || b == 0xe9) && i + 5 <= n)
          hit = targets.count(base + i + 5 + static_cast<std::uint64_t>(rel32(i + 1)));
        else if (b == 0x0f && i + 6 <= n && (p[i + 1] & 0xf0) == 0x80)
          hit = targets.count(base + i + 6 + static_cast<std::uint64_t>(rel32(i + 2)));
        else if ((b == 0xeb || (b & 0xf0) == 0x70) && i + 2 <= n)
          hit = targets.count(base + i + 2 + static_cast<std::uint64_t>(static_cast<std::int8_t>(p[i + 1])));
        else if (b == 0xff && i + 6 <= n && (p[i + 1] == 0x15 || p[i + 1] == 0x25))
          hit = slots.count(base + i + 6 + static_cast<std::uint64_t>(rel32(i + 2)));
      }
      if (hit) decode_chunk(ci);
    }
  };
  auto scanned = std::vector<bool>(g.chunks.size(), false);
  // Makes sure every chunk that branches to ci is decoded (whole-object mode).
  auto decode_callers_of = [&](std::uint32_t ci) {
    if (full || scanned[ci]) return;
    scanned[ci] = true;
    decode_branching_to({g.chunks[ci].start}, {});
  };

  if (full) {
    for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci) decode_chunk(ci);
  } else {
    for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci) {
      if (o.code[chunk_section[ci]].entsize) {  // PLT stubs: small, and they name the imports
        decode_chunk(ci);
        continue;
      }
      auto [p, n] = bytes_of(ci);
      for (std::size_t i = 0; i + 1 < n; ++i)
        if ((p[i] == 0x0f && (p[i + 1] == 0x05 || p[i + 1] == 0x34)) || (p[i] == 0xcd && p[i + 1] == 0x80)) {
          decode_chunk(ci);
          break;
        }
    }
    std::set<std::uint64_t> slots;
    for (const auto& [slot, name] : o.got_imports)
      if (nr_param_imports.count(name)) slots.insert(slot);
    decode_branching_to({}, slots);
  }

  // Resolve calls to nr-taking code at their sites, until no new nr-taking chunk appears.
  std::deque<std::uint32_t> work;
  std::vector<bool> queued(g.chunks.size(), false);
  auto enqueue = [&](std::uint32_t ci) {
    if (!queued[ci]) {
      queued[ci] = true;
      work.push_back(ci);
    }
  };
  auto nr_taking = [&](std::uint32_t ci) {
    decode_callers_of(ci);
    for (auto caller : callers[ci]) enqueue(caller);
  };
  for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci) {
    if (!decoded[ci]) continue;
    for (const Site& s : sites[ci])
      if (s.chunk == CodeGraph::npos && nr_param_imports.count(s.import)) enqueue(ci);
  }
  for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci)
    if (decoded[ci] && g.chunks[ci].nr_param >= 0) nr_taking(ci);
  std::set<std::uint64_t> resolved_sites;
  while (!work.empty()) {
    std::uint32_t ci = work.front();
    work.pop_front();
    queued[ci] = false;
    Chunk& c = g.chunks[ci];
    std::vector<Insn> ins;
    std::unique_ptr<ValueFinder> finder;
    for (const Site& s : sites[ci]) {
      int param = -1;
      bool compat = false;
      if (s.chunk != CodeGraph::npos && g.chunks[s.chunk].nr_param >= 0) {
        param = g.chunks[s.chunk].nr_param;
        compat = g.chunks[s.chunk].nr_param_compat;
      } else if (s.chunk == CodeGraph::npos) {
        if (auto it = nr_param_imports.find(s.import); it != nr_param_imports.end()) param = it->second;
      }
      if (param < 0 || param > 5 || resolved_sites.count(s.addr)) continue;
      resolved_sites.insert(s.addr);
      if (!finder) {
        ins = dec.decode(o.code[chunk_section[ci]], c.start, c.end);
        finder = std::make_unique<ValueFinder>(ins);
      }
      std::size_t at = finder->index_of(s.addr);
      if (at >= ins.size()) continue;
      for (const Value& v : finder->before(at, kParamRegs[param])) {
        if (v.kind == Value::constant) {
          add_number(c, compat, v.v);
        } else if (v.kind == Value::param && c.nr_param < 0) {
          c.nr_param = static_cast<int>(v.v);
          c.nr_param_compat = compat;
          nr_taking(ci);
        } else if (v.kind != Value::param || c.nr_param != v.v) {
          ++c.unresolved;
        }
      }
    }
  }
  for (std::uint32_t i = 0; i < g.chunks.size(); ++i)
    if (taken[i]) g.address_taken.push_back(i);

  // Fatal code: the given entries, then, until nothing changes, every chunk
  // whose paths all end in fatal code.
  if (find_fatal) {
    std::vector<bool> fatal(g.chunks.size(), false);
    for (auto a : fatal_entries) {
      auto c = g.chunk_at(a);
      if (c != CodeGraph::npos && g.chunks[c].start == a) fatal[c] = true;
    }
    // Code that may leave a call by another way than returning: what reaches,
    // without entering the fatal entries, an indirect call or jump (a
    // callback may longjmp; longjmp itself jumps through a register; the
    // unwinder is called through a pointer), an import, or a thread's exit
    // (exit, not exit_group). A PLT stub's jump through a slot that holds no
    // import and no interposable function of the object is to one of the
    // object's own IFUNC implementations (strlen, memcpy, ...): it returns.
    ClosureOptions leave_options;
    leave_options.cut = fatal;
    leave_options.mark.assign(g.chunks.size(), false);
    for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci) {
      const Chunk& c = g.chunks[ci];
      bool plt_stub = o.code[chunk_section[ci]].entsize != 0;
      leave_options.mark[ci] = c.indirect_calls || (c.indirect_jumps && !plt_stub) ||
                               c.native.test(60 /* exit */) || !c.imports.empty();
    }
    auto leave = closures(g, leave_options);
    std::vector<bool> may_leave(g.chunks.size(), false);
    for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci) may_leave[ci] = leave[ci].marked;
    for (bool changed = true; changed;) {
      changed = false;
      for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci)
        if (!fatal[ci] && never_returns(g, ci, kept[ci], o, fatal, may_leave)) fatal[ci] = changed = true;
    }
    for (std::uint32_t ci = 0; ci < g.chunks.size(); ++ci) g.chunks[ci].fatal = fatal[ci];
  }
  return g;
}

std::vector<Closure> closures(const CodeGraph& graph, bool through_indirect) {
  ClosureOptions options;
  options.through_indirect = through_indirect;
  return closures(graph, options);
}

std::vector<Closure> closures(const CodeGraph& graph, const ClosureOptions& options) {
  const auto n = static_cast<std::uint32_t>(graph.chunks.size());
  const bool through_indirect = options.through_indirect;
  auto is_cut = [&](std::uint32_t v) { return v < options.cut.size() && options.cut[v]; };
  auto is_marked = [&](std::uint32_t v) { return v < options.mark.size() && options.mark[v]; };
  // Node n stands for "any address-taken chunk" (the target of an indirect call).
  const std::uint32_t any = n;
  auto successors = [&](std::uint32_t v) -> std::vector<std::uint32_t> {
    std::vector<std::uint32_t> s;
    for (auto w : v == any ? graph.address_taken : graph.chunks[v].callees)
      if (!is_cut(w)) s.push_back(w);
    if (v != any && through_indirect && (graph.chunks[v].indirect_calls || graph.chunks[v].indirect_jumps))
      s.push_back(any);
    return s;
  };
  // Tarjan's algorithm, iterative; components come out in reverse topological
  // order, so every successor's component is finished before its own.
  std::vector<std::int64_t> index(n + 1, -1), low(n + 1, 0);
  std::vector<std::uint32_t> comp(n + 1, 0), stack;
  std::vector<bool> on_stack(n + 1, false);
  std::vector<Closure> comp_closure;
  std::int64_t counter = 0;
  struct Frame {
    std::uint32_t v;
    std::vector<std::uint32_t> succ;
    std::size_t next = 0;
  };
  for (std::uint32_t root = 0; root <= n; ++root) {
    if (index[root] >= 0) continue;
    std::vector<Frame> frames;
    frames.push_back({root, successors(root)});
    index[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      Frame& f = frames.back();
      if (f.next < f.succ.size()) {
        std::uint32_t w = f.succ[f.next++];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = true;
          frames.push_back({w, successors(w)});
        } else if (on_stack[w]) {
          low[f.v] = std::min(low[f.v], index[w]);
        }
        continue;
      }
      std::uint32_t v = f.v;
      if (low[v] == index[v]) {
        auto id = static_cast<std::uint32_t>(comp_closure.size());
        Closure c;
        std::vector<std::uint32_t> members;
        for (;;) {
          std::uint32_t w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          comp[w] = id;
          members.push_back(w);
          if (w == v) break;
        }
        std::set<std::uint32_t> succ_comps;
        for (auto w : members) {
          if (w != any) {
            const Chunk& ch = graph.chunks[w];
            c.native |= ch.native;
            c.compat |= ch.compat;
            c.imports.insert(ch.imports.begin(), ch.imports.end());
            c.unresolved = c.unresolved || ch.unresolved;
            c.indirect_calls = c.indirect_calls || ch.indirect_calls;
            c.marked = c.marked || is_marked(w);
            ++c.chunks;
          }
          for (auto s : successors(w))
            if (comp[s] != id || index[s] < 0) succ_comps.insert(comp[s]);
        }
        for (auto sc : succ_comps) {
          if (sc == id) continue;
          const Closure& o = comp_closure[sc];
          c.native |= o.native;
          c.compat |= o.compat;
          c.imports.insert(o.imports.begin(), o.imports.end());
          c.unresolved = c.unresolved || o.unresolved;
          c.indirect_calls = c.indirect_calls || o.indirect_calls;
          c.marked = c.marked || o.marked;
          c.chunks = sat_add(c.chunks, o.chunks);  // an upper bound when paths share chunks
        }
        comp_closure.push_back(std::move(c));
      }
      frames.pop_back();
      if (!frames.empty()) low[frames.back().v] = std::min(low[frames.back().v], low[v]);
    }
  }
  std::vector<Closure> out(n);
  for (std::uint32_t v = 0; v < n; ++v) out[v] = comp_closure[comp[v]];
  return out;
}

Closure whole(const CodeGraph& graph) {
  Closure c;
  for (const Chunk& ch : graph.chunks) {
    c.native |= ch.native;
    c.compat |= ch.compat;
    c.imports.insert(ch.imports.begin(), ch.imports.end());
    c.unresolved = sat_add(c.unresolved, ch.unresolved);
    c.indirect_calls = sat_add(c.indirect_calls, ch.indirect_calls);
    ++c.chunks;
  }
  return c;
}

}  // namespace sandmine::reach
