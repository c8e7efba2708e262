#pragma once
// What static reachability needs from one ELF file, read with libelf: its
// code, the functions it exports and imports, which GOT slot holds which
// import (so a call through a PLT stub or a GOT slot is a call to a named
// function), the addresses its data points at (address-taken code), function
// starts from .eh_frame, DT_NEEDED, PT_INTERP and the GNU build id.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/result.h"

namespace sandmine::reach {

/// A function a shared object or executable defines in .dynsym.
struct ElfSymbol {
  std::string name;  ///< without version ("fsync", not "fsync@@GLIBC_2.2.5")
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
  bool ifunc = false;  ///< STT_GNU_IFUNC: addr is the resolver
};

/// An executable section (.text, .plt, ...), loaded at addr.
struct CodeSection {
  std::string name;
  std::uint64_t addr = 0;
  std::uint64_t entsize = 0;  ///< stub size for .plt*, 0 otherwise
  std::vector<std::uint8_t> bytes;
};

/// One ELF file.
struct ElfObject {
  std::string path;           ///< as given to read_elf
  std::uint16_t machine = 0;  ///< EM_X86_64, EM_386, ...
  bool elf64 = false;
  bool shared = false;   ///< ET_DYN (a library or a PIE)
  bool dynamic = false;  ///< has PT_DYNAMIC (not a static executable)
  std::uint64_t entry = 0;
  std::string interp;                ///< PT_INTERP, empty when none
  std::string soname;                ///< DT_SONAME
  std::string build_id;              ///< NT_GNU_BUILD_ID in hex, empty when none
  std::vector<std::string> needed;   ///< DT_NEEDED, in order
  std::vector<std::string> runpath;  ///< DT_RUNPATH, else DT_RPATH, split at ':'
  std::vector<ElfSymbol> exports;    ///< defined functions of .dynsym (global and weak)
  std::vector<std::string> imports;  ///< undefined functions and untyped symbols of .dynsym, sorted
  /// GOT slot address -> the imported function whose address the dynamic
  /// linker writes there (JUMP_SLOT, GLOB_DAT and 64-bit relocations
  /// against undefined symbols).
  std::map<std::uint64_t, std::string> got_imports;
  /// GOT slot address -> the object's own function whose address the
  /// dynamic linker writes there: calls to its own exported, interposable
  /// functions (glibc calls malloc through its own PLT).
  std::map<std::uint64_t, std::uint64_t> got_locals;
  /// Code addresses stored in data by relocations (RELATIVE, IRELATIVE, and
  /// 64-bit ones against defined symbols): vtables, init arrays, callbacks.
  std::vector<std::uint64_t> data_code_pointers;
  /// Function starts: .eh_frame FDEs and .symtab/.dynsym functions, sorted, unique.
  std::vector<std::uint64_t> function_starts;
  /// Where the dynamic loader or the kernel enters the object: e_entry (for
  /// executables), DT_INIT, DT_FINI and the entries of the init/fini arrays.
  std::vector<std::uint64_t> entry_points;
  std::vector<CodeSection> code;
};

/// Reads path (or an open descriptor of it, for files inside another root).
/// Fails for a file that is not ELF, with the reason.
Result<ElfObject> read_elf(const std::string& path);
Result<ElfObject> read_elf_fd(int fd, const std::string& path);

}  // namespace sandmine::reach
