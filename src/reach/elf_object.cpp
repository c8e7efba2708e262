#include "reach/elf_object.h"

#include <elf.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "sys/in_root.h"

namespace sandmine::reach {

namespace {

struct ElfHandle {
  Elf* elf = nullptr;
  ~ElfHandle() {
    if (elf) elf_end(elf);
  }
};

std::string elf_failure(const std::string& path, const std::string& what) {
  return path + ": " + what + " (libelf: " + elf_errmsg(-1) + ")";
}

// A little-endian reader over a byte range (.eh_frame is in the target's byte
// order; sandmine reads x86 objects, which are little-endian).
struct Bytes {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  bool ok = true;

  template <class T>
  T fixed() {
    if (pos + sizeof(T) > size) {
      ok = false;
      pos = size;
      return 0;
    }
    T v;
    std::memcpy(&v, data + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::uint64_t uleb() {
    std::uint64_t v = 0;
    for (int shift = 0; pos < size && shift < 64; shift += 7) {
      std::uint8_t b = data[pos++];
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return v;
  }
  std::int64_t sleb() {
    std::int64_t v = 0;
    int shift = 0;
    std::uint8_t b = 0;
    do {
      if (pos >= size) {
        ok = false;
        return v;
      }
      b = data[pos++];
      v |= static_cast<std::int64_t>(b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) && shift < 64);
    if (shift < 64 && (b & 0x40)) v |= -(static_cast<std::int64_t>(1) << shift);
    return v;
  }
  // A DW_EH_PE-encoded pointer at the current position; section_addr is
  // where byte 0 of data is loaded (for pc-relative values).
  std::uint64_t encoded(std::uint8_t enc, std::uint64_t section_addr) {
    std::uint64_t here = section_addr + pos;
    std::uint64_t v = 0;
    switch (enc & 0x0f) {
      case 0x00:
        v = fixed<std::uint64_t>();
        break;
      case 0x01:
        v = uleb();
        break;
      case 0x02:
        v = fixed<std::uint16_t>();
        break;
      case 0x03:
        v = fixed<std::uint32_t>();
        break;
      case 0x04:
        v = fixed<std::uint64_t>();
        break;
      case 0x09:
        v = static_cast<std::uint64_t>(sleb());
        break;
      case 0x0a:
        v = static_cast<std::uint64_t>(static_cast<std::int64_t>(fixed<std::int16_t>()));
        break;
      case 0x0b:
        v = static_cast<std::uint64_t>(static_cast<std::int64_t>(fixed<std::int32_t>()));
        break;
      case 0x0c:
        v = fixed<std::uint64_t>();
        break;
      default:
        ok = false;
        return 0;
    }
    if ((enc & 0x70) == 0x10) v += here;  // DW_EH_PE_pcrel
    return v;
  }
};

// Function starts from the FDEs of .eh_frame: libelf does not decode call
// frame information and libdw only looks FDEs up by address.
void read_eh_frame(const std::uint8_t* data, std::size_t size, std::uint64_t addr,
                   std::vector<std::uint64_t>& starts) {
  // CIE offset -> FDE pointer encoding, plus 0x100 for a signal frame CIE ('S').
  std::map<std::size_t, int> cie_encoding;
  auto parse_cie = [&](std::size_t at) -> int {
    if (auto it = cie_encoding.find(at); it != cie_encoding.end()) return it->second;
    Bytes b{data, size, at};
    std::uint64_t len = b.fixed<std::uint32_t>();
    if (len == 0xffffffff) len = b.fixed<std::uint64_t>();
    (void)b.fixed<std::uint32_t>();  // CIE id 0
    std::uint8_t version = b.fixed<std::uint8_t>();
    std::string aug;
    while (b.pos < size && data[b.pos]) aug += static_cast<char>(data[b.pos++]);
    ++b.pos;
    (void)b.uleb();  // code alignment
    (void)b.sleb();  // data alignment
    if (version == 1)
      (void)b.fixed<std::uint8_t>();
    else
      (void)b.uleb();  // return address register
    int enc = 0;       // DW_EH_PE_absptr
    if (aug.find('S') != std::string::npos) enc |= 0x100;
    if (!aug.empty() && aug[0] == 'z') {
      (void)b.uleb();  // augmentation data length
      for (char c : aug.substr(1)) {
        if (c == 'R') {
          enc |= b.fixed<std::uint8_t>();
        } else if (c == 'P') {
          std::uint8_t penc = b.fixed<std::uint8_t>();
          (void)b.encoded(penc & 0x7f, addr);
        } else if (c == 'L') {
          (void)b.fixed<std::uint8_t>();
        } else if (c != 'S' && c != 'B') {
          break;  // unknown augmentation: the 'R' byte, if any, came first in practice
        }
      }
    }
    if (!b.ok) return -1;
    cie_encoding[at] = enc;
    return enc;
  };
  std::size_t offset = 0;
  while (offset + 4 <= size) {
    Bytes b{data, size, offset};
    std::uint64_t len = b.fixed<std::uint32_t>();
    if (len == 0) break;  // terminator
    if (len == 0xffffffff) len = b.fixed<std::uint64_t>();
    std::size_t body = b.pos;
    std::size_t next = body + len;
    if (!b.ok || next > size || next <= offset) break;
    std::uint32_t id = b.fixed<std::uint32_t>();
    if (id != 0 && id <= body) {  // an FDE: id is the distance back to its CIE
      int enc = parse_cie(body - id);
      if (enc >= 0) {
        std::uint64_t begin = b.encoded(static_cast<std::uint8_t>(enc & 0xff), addr);
        // A signal frame's CFI starts one byte before its code (the unwinder
        // looks up return address - 1 except in signal frames): glibc's
        // __restore_rt. The code starts after that byte.
        if (enc & 0x100) ++begin;
        if (b.ok && begin) starts.push_back(begin);
      }
    }
    offset = next;
  }
}

std::vector<std::uint8_t> section_bytes(Elf_Scn* scn) {
  std::vector<std::uint8_t> out;
  Elf_Data* d = nullptr;
  while ((d = elf_getdata(scn, d)) != nullptr)
    if (d->d_buf && d->d_size) {
      auto* p = static_cast<const std::uint8_t*>(d->d_buf);
      out.insert(out.end(), p, p + d->d_size);
    }
  return out;
}

std::string unversioned(const char* name) {
  std::string s = name ? name : "";
  if (auto at = s.find('@'); at != std::string::npos) s.resize(at);
  return s;
}

}  // namespace

Result<ElfObject> read_elf(const std::string& path) {
  auto fd = sys::open_read(path);
  if (!fd) return fd.error();
  return read_elf_fd(fd->get(), path);
}

Result<ElfObject> read_elf_fd(int fd, const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) return Error{"libelf is too old for this ELF version"};
  ElfHandle h;
  h.elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (!h.elf) return Error{elf_failure(path, "cannot read"), EINVAL};
  if (elf_kind(h.elf) != ELF_K_ELF) return Error{path + ": not an ELF file", ENOEXEC};
  GElf_Ehdr eh;
  if (!gelf_getehdr(h.elf, &eh)) return Error{elf_failure(path, "no ELF header"), ENOEXEC};

  ElfObject o;
  o.path = path;
  o.machine = eh.e_machine;
  o.elf64 = gelf_getclass(h.elf) == ELFCLASS64;
  o.shared = eh.e_type == ET_DYN;
  o.entry = eh.e_entry;

  size_t nphdr = 0;
  if (elf_getphdrnum(h.elf, &nphdr) != 0) return Error{elf_failure(path, "bad program headers"), ENOEXEC};
  for (size_t i = 0; i < nphdr; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(h.elf, static_cast<int>(i), &ph)) continue;
    if (ph.p_type == PT_DYNAMIC) o.dynamic = true;
    if (ph.p_type == PT_INTERP) {
      size_t size = 0;
      char* raw = elf_rawfile(h.elf, &size);
      if (raw && ph.p_offset + ph.p_filesz <= size && ph.p_filesz > 0)
        o.interp.assign(raw + ph.p_offset, strnlen(raw + ph.p_offset, ph.p_filesz));
    }
  }
  if (eh.e_type == ET_EXEC || (eh.e_type == ET_DYN && !o.interp.empty()))
    o.entry_points.push_back(eh.e_entry);

  size_t shstrndx = 0;
  if (elf_getshdrstrndx(h.elf, &shstrndx) != 0) return Error{elf_failure(path, "no section names"), ENOEXEC};

  struct Rela {
    std::uint64_t offset, type, sym;
    std::int64_t addend;
    Elf_Scn* symtab;
  };
  std::vector<Rela> relas;
  std::uint64_t init_array = 0, init_array_size = 0, fini_array = 0, fini_array_size = 0;
  std::vector<std::string> rpath;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(h.elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char* raw_name = elf_strptr(h.elf, shstrndx, sh.sh_name);
    std::string name = raw_name ? raw_name : "";
    if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR) && (sh.sh_flags & SHF_ALLOC)) {
      CodeSection c{name, sh.sh_addr, name.rfind(".plt", 0) == 0 ? (sh.sh_entsize ? sh.sh_entsize : 16) : 0,
                    section_bytes(scn)};
      o.code.push_back(std::move(c));
    } else if (sh.sh_type == SHT_PROGBITS && name == ".eh_frame") {
      auto bytes = section_bytes(scn);
      read_eh_frame(bytes.data(), bytes.size(), sh.sh_addr, o.function_starts);
    } else if (sh.sh_type == SHT_NOTE) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      size_t off = 0, name_off = 0, desc_off = 0;
      GElf_Nhdr nh;
      while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            std::memcmp(static_cast<char*>(d->d_buf) + name_off, "GNU", 4) == 0) {
          static const char* hex = "0123456789abcdef";
          auto* p = static_cast<const std::uint8_t*>(d->d_buf) + desc_off;
          o.build_id.clear();
          for (size_t i = 0; i < nh.n_descsz; ++i) {
            o.build_id += hex[p[i] >> 4];
            o.build_id += hex[p[i] & 15];
          }
        }
      }
    } else if (sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (!d || !sh.sh_entsize) continue;
      size_t n = sh.sh_size / sh.sh_entsize;
      for (size_t i = 1; i < n; ++i) {
        GElf_Sym s;
        if (!gelf_getsym(d, static_cast<int>(i), &s)) continue;
        int type = GELF_ST_TYPE(s.st_info), bind = GELF_ST_BIND(s.st_info);
        bool func = type == STT_FUNC || type == STT_GNU_IFUNC;
        if (s.st_shndx != SHN_UNDEF && func && s.st_value) o.function_starts.push_back(s.st_value);
        if (sh.sh_type != SHT_DYNSYM) continue;
        const char* nm = elf_strptr(h.elf, sh.sh_link, s.st_name);
        if (!nm || !*nm) continue;
        if (s.st_shndx == SHN_UNDEF) {
          if (func || type == STT_NOTYPE) o.imports.push_back(unversioned(nm));
        } else if (func && (bind == STB_GLOBAL || bind == STB_WEAK) &&
                   GELF_ST_VISIBILITY(s.st_other) == STV_DEFAULT) {
          o.exports.push_back({unversioned(nm), s.st_value, s.st_size, type == STT_GNU_IFUNC});
        }
      }
    } else if (sh.sh_type == SHT_RELA || sh.sh_type == SHT_REL) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (!d || !sh.sh_entsize) continue;
      Elf_Scn* symtab = elf_getscn(h.elf, sh.sh_link);
      size_t n = sh.sh_size / sh.sh_entsize;
      for (size_t i = 0; i < n; ++i) {
        if (sh.sh_type == SHT_RELA) {
          GElf_Rela r;
          if (!gelf_getrela(d, static_cast<int>(i), &r)) continue;
          relas.push_back({r.r_offset, GELF_R_TYPE(r.r_info), GELF_R_SYM(r.r_info), r.r_addend, symtab});
        } else {
          GElf_Rel r;
          if (!gelf_getrel(d, static_cast<int>(i), &r)) continue;
          relas.push_back({r.r_offset, GELF_R_TYPE(r.r_info), GELF_R_SYM(r.r_info), 0, symtab});
        }
      }
    } else if (sh.sh_type == SHT_DYNAMIC) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (!d || !sh.sh_entsize) continue;
      size_t n = sh.sh_size / sh.sh_entsize;
      for (size_t i = 0; i < n; ++i) {
        GElf_Dyn dyn;
        if (!gelf_getdyn(d, static_cast<int>(i), &dyn)) continue;
        auto str = [&] {
          const char* s = elf_strptr(h.elf, sh.sh_link, dyn.d_un.d_val);
          return std::string(s ? s : "");
        };
        auto split = [](const std::string& s) {
          std::vector<std::string> out;
          size_t start = 0;
          while (start <= s.size()) {
            size_t colon = s.find(':', start);
            if (colon == std::string::npos) colon = s.size();
            if (colon > start) out.push_back(s.substr(start, colon - start));
            start = colon + 1;
          }
          return out;
        };
        switch (dyn.d_tag) {
          case DT_NEEDED:
            o.needed.push_back(str());
            break;
          case DT_SONAME:
            o.soname = str();
            break;
          case DT_RUNPATH:
            o.runpath = split(str());
            break;
          case DT_RPATH:
            rpath = split(str());
            break;
          case DT_INIT:
            o.entry_points.push_back(dyn.d_un.d_ptr);
            break;
          case DT_FINI:
            o.entry_points.push_back(dyn.d_un.d_ptr);
            break;
          case DT_INIT_ARRAY:
            init_array = dyn.d_un.d_ptr;
            break;
          case DT_INIT_ARRAYSZ:
            init_array_size = dyn.d_un.d_val;
            break;
          case DT_FINI_ARRAY:
            fini_array = dyn.d_un.d_ptr;
            break;
          case DT_FINI_ARRAYSZ:
            fini_array_size = dyn.d_un.d_val;
            break;
          default:
            break;
        }
      }
    }
  }
  if (o.runpath.empty()) o.runpath = rpath;  // DT_RPATH counts only without DT_RUNPATH

  // Relocations: GOT slots of imports, and code addresses stored in data.
  bool x86_64 = o.machine == EM_X86_64;
  std::map<Elf_Scn*, Elf_Data*> symdata;
  for (const auto& r : relas) {
    if (!x86_64) break;
    bool in_array = (r.offset >= init_array && r.offset < init_array + init_array_size) ||
                    (r.offset >= fini_array && r.offset < fini_array + fini_array_size);
    if (r.type == R_X86_64_RELATIVE || r.type == R_X86_64_IRELATIVE) {
      o.data_code_pointers.push_back(static_cast<std::uint64_t>(r.addend));
      if (in_array) o.entry_points.push_back(static_cast<std::uint64_t>(r.addend));
      continue;
    }
    if (r.type != R_X86_64_JUMP_SLOT && r.type != R_X86_64_GLOB_DAT && r.type != R_X86_64_64) continue;
    if (!r.sym || !r.symtab) continue;
    Elf_Data*& d = symdata[r.symtab];
    if (!d) d = elf_getdata(r.symtab, nullptr);
    GElf_Sym s;
    GElf_Shdr symsh;
    if (!d || !gelf_getsym(d, static_cast<int>(r.sym), &s) || !gelf_getshdr(r.symtab, &symsh)) continue;
    if (s.st_shndx == SHN_UNDEF) {
      const char* nm = elf_strptr(h.elf, symsh.sh_link, s.st_name);
      if (nm && *nm) o.got_imports[r.offset] = unversioned(nm);
    } else {
      std::uint64_t target = s.st_value + static_cast<std::uint64_t>(r.addend);
      o.data_code_pointers.push_back(target);
      if (in_array) o.entry_points.push_back(target);
      if (r.type != R_X86_64_64) o.got_locals[r.offset] = target;
    }
  }
  // Non-PIC executables keep init arrays without relocations: read them.
  auto read_array = [&](std::uint64_t at, std::uint64_t size) {
    if (!at || !size || !o.elf64) return;
    Elf_Scn* s = nullptr;
    while ((s = elf_nextscn(h.elf, s)) != nullptr) {
      GElf_Shdr sh;
      if (!gelf_getshdr(s, &sh) || sh.sh_type == SHT_NOBITS) continue;
      if (at < sh.sh_addr || at + size > sh.sh_addr + sh.sh_size) continue;
      auto bytes = section_bytes(s);
      for (std::uint64_t p = at - sh.sh_addr; p + 8 <= at - sh.sh_addr + size && p + 8 <= bytes.size();
           p += 8) {
        std::uint64_t v;
        std::memcpy(&v, bytes.data() + p, 8);
        if (v && v != ~0ULL) o.entry_points.push_back(v);
      }
    }
  };
  read_array(init_array, init_array_size);
  read_array(fini_array, fini_array_size);

  auto sort_unique = [](auto& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  sort_unique(o.function_starts);
  sort_unique(o.data_code_pointers);
  sort_unique(o.entry_points);
  sort_unique(o.imports);
  std::sort(o.exports.begin(), o.exports.end(), [](const ElfSymbol& a, const ElfSymbol& b) {
    return std::tie(a.name, a.addr) < std::tie(b.name, b.addr);
  });
  return o;
}

}  // namespace sandmine::reach
