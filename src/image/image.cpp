#include "image/image.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "image/cache.h"
#include "sys/command.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/spawn.h"

namespace sandmine::image {

namespace detail {

Result<sys::CommandResult> run_ok(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                  const std::string& input) {
  auto r = sys::run_command(argv, {.timeout = timeout, .input = input});
  if (!r) return r.error();
  if (r->timed_out)
    return Error{fmt::format("{} did not finish within {} s", argv[0], timeout.count() / 1000), ETIMEDOUT};
  if (r->exit_code != 0) return Error{fmt::format("{} failed: {}", argv[0], r->last_line())};
  return r;
}

namespace {

// The SHA-256 of a file's bytes, or of text, by coreutils' sha256sum.
Result<std::string> sha256(const std::vector<std::string>& argv, const std::string& input) {
  auto r = run_ok(argv, std::chrono::minutes(10), input);
  if (!r) return r.error();
  std::string hex = r->output.substr(0, 64);
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Error{"sha256sum printed no hash: " + r->last_line()};
  return hex;
}

}  // namespace

Result<std::string> sha256_of_file(const std::string& path) { return sha256({"sha256sum", "--", path}, {}); }
Result<std::string> sha256_of_text(const std::string& text) { return sha256({"sha256sum", "-"}, text); }

}  // namespace detail

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

// Part of every recipe: bump it when the way an image is built changes, so
// that entries built the old way are not reused.
constexpr int kRecipeFormat = 1;

// busybox-static's binary: it runs in an image with nothing else in it.
constexpr const char* kHostBusybox = "/bin/busybox";

// mmdebstrap(1), --variant.
constexpr const char* kVariants[] = {"extract", "custom",    "essential",   "apt", "required", "minbase",
                                     "buildd",  "important", "debootstrap", "-",   "standard"};

std::string hash12(const std::string& hash) { return hash.substr(0, 12); }

Error fs_error(const std::string& what, const std::error_code& ec) {
  return Error{what + ": " + ec.message(), ec.value()};
}

// ---------------------------------------------------------------- commands

// Runs argv to completion, handing each line of its output to on_line as it
// arrives: a long build shows its steps. It stays in our process group, so a
// Ctrl-C reaches it too and it can clean up after itself.
Result<sys::CommandResult> run_streaming(const std::vector<std::string>& argv,
                                         const std::function<void(const std::string&)>& on_line) {
  return sys::run_command(argv,
                          {.timeout = std::chrono::hours(2), .on_line = on_line, .own_process_group = false});
}

using detail::run_ok;
using detail::sha256_of_file;
using detail::sha256_of_text;

// ----------------------------------------------------------------- recipes

// An image with a config is fetched by its digest (fetch()), not built.
Error ref_error(const spec::Image& image) {
  std::string what = "image";
  if (const auto* r = std::get_if<spec::RefImage>(&image)) what = "image.ref (" + r->ref + ")";
  if (const auto* o = std::get_if<spec::OciImage>(&image)) what = "image.oci (" + o->dir + ")";
  if (const auto* a = std::get_if<spec::ArchiveImage>(&image)) what = "image.archive (" + a->path + ")";
  return Error{what + " has no recipe to build: it is fetched by its digest (image::fetch)", EINVAL};
}

// A busybox file's path: absolute, and it cannot climb out of the image.
bool valid_image_path(const std::string& p) {
  if (!p.starts_with('/') || p == "/" || p.find('\0') != std::string::npos) return false;
  for (const auto& part : fs::path(p))
    if (part == "..") return false;
  return true;
}

Status validate(const spec::DebianImage& d) {
  if (d.suite.empty() || d.suite.find_first_of(" \t\n/") != std::string::npos)
    return Error{"'" + d.suite + "' is not a Debian suite name", EINVAL};
  if (std::find(std::begin(kVariants), std::end(kVariants), d.variant) == std::end(kVariants)) {
    std::string known;
    for (const char* v : kVariants) known += (known.empty() ? "" : ", ") + std::string(v);
    return Error{"unknown mmdebstrap variant '" + d.variant + "' (expected one of " + known + ")", EINVAL};
  }
  for (const auto& p : d.packages)
    if (p.empty() || p.find_first_of(", \t\n") != std::string::npos)
      return Error{"'" + p + "' is not a package name", EINVAL};
  return {};
}

Status validate(const spec::BusyboxImage& b) {
  for (const auto& [path, content] : b.files)
    if (!valid_image_path(path))
      return Error{"busybox file '" + path + "' is not an absolute path in the image without .. components",
                   EINVAL};
  return {};
}

// A file's content in the recipe: the text itself when it is UTF-8 (readable
// in recipe.json), its bytes otherwise (JSON strings cannot hold them).
json content_value(const std::string& content) {
  json text = content;
  try {
    (void)text.dump();
    return text;
  } catch (const json::type_error&) {
    return json::binary(std::vector<std::uint8_t>(content.begin(), content.end()));
  }
}

// The canonical recipe: everything that decides the content, nothing else
// (not the spec's name, not a tarball's path). Keys sort themselves.
Result<json> recipe(const spec::Image& image) {
  if (const auto* d = std::get_if<spec::DebianImage>(&image)) {
    if (Status st = validate(*d); !st) return st.error();
    std::set<std::string> packages(d->packages.begin(), d->packages.end());
    return json{{"format", kRecipeFormat},
                {"kind", "debian"},
                {"suite", d->suite},
                {"variant", d->variant},
                {"packages", packages}};
  }
  if (const auto* r = std::get_if<spec::RootfsImage>(&image)) {
    std::error_code ec;
    if (!fs::is_regular_file(r->tarball, ec))
      return Error{"rootfs tarball " + r->tarball + " does not exist or is not a file", ENOENT};
    auto digest = sha256_of_file(r->tarball);
    if (!digest) return Error{"cannot hash rootfs tarball " + r->tarball + ": " + digest.error().message};
    return json{{"format", kRecipeFormat}, {"kind", "rootfs"}, {"tarball_sha256", *digest}};
  }
  if (const auto* b = std::get_if<spec::BusyboxImage>(&image)) {
    if (Status st = validate(*b); !st) return st.error();
    std::error_code ec;
    if (!fs::is_regular_file(kHostBusybox, ec))
      return Error{std::string(kHostBusybox) + " does not exist (apt-get install busybox-static)", ENOENT};
    auto digest = sha256_of_file(kHostBusybox);
    if (!digest) return Error{"cannot hash " + std::string(kHostBusybox) + ": " + digest.error().message};
    json files = json::object();
    for (const auto& [path, content] : b->files) files[path] = content_value(content);
    return json{
        {"format", kRecipeFormat}, {"kind", "busybox"}, {"busybox_sha256", *digest}, {"files", files}};
  }
  return ref_error(image);
}

std::string describe(const spec::Image& image) {
  if (const auto* d = std::get_if<spec::DebianImage>(&image)) {
    std::string what = "debian " + d->suite;
    if (d->variant != "apt") what += ", variant " + d->variant;
    if (!d->packages.empty()) {
      what += ": ";
      for (size_t i = 0; i < d->packages.size(); ++i) what += (i ? " " : "") + d->packages[i];
    }
    return what;
  }
  if (const auto* r = std::get_if<spec::RootfsImage>(&image)) return "rootfs " + r->tarball;
  const auto& b = std::get<spec::BusyboxImage>(image);
  return fmt::format("busybox with {} file{}", b.files.size(), b.files.size() == 1 ? "" : "s");
}

// ------------------------------------------------------------------ builds

// A mount point in /proc/self/mountinfo at or under dir (octal escapes such
// as \040 are left as they are: cache paths have no spaces).
std::string first_mount_under(const std::string& dir) {
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  if (!mountinfo) return "";
  std::istringstream lines(*mountinfo);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    if (fields >> id >> parent >> devno >> root >> point && (point == dir || point.starts_with(dir + "/")))
      return point;
  }
  return "";
}

// Removes a partial build. mmdebstrap mounts /proc, /sys and /dev/pts in its
// target while it works; one killed hard may leave them, and deleting
// through a mount would delete what is mounted there.
Status remove_partial(const std::string& partial) {
  if (std::string mount = first_mount_under(partial); !mount.empty())
    return Error{"an interrupted build left " + mount + " mounted; run umount -R " + mount + " and try again",
                 EBUSY};
  std::error_code ec;
  fs::remove_all(partial, ec);
  if (ec) return fs_error("cannot remove the interrupted build " + partial, ec);
  return {};
}

// tar keeps owners by number: the image's /etc/passwd, not the host's, names them.
Status extract(const std::string& tarball, const std::string& dir) {
  auto r =
      run_ok({"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tarball, "-C", dir}, 30min);
  if (!r) return Error{"cannot extract " + tarball + ": " + r.error().message};
  return {};
}

Status pack(const std::string& dir, const std::string& tarball) {
  auto r = run_ok({"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--sort=name", "-C", dir,
                   "-cf", tarball, "."},
                  30min);
  if (!r) return Error{"cannot pack " + dir + ": " + r.error().message};
  return {};
}

// mmdebstrap's own words for a failure: apt's "E: ..." line, else its summary.
std::string mmdebstrap_error(const std::string& output) {
  std::istringstream lines(output);
  std::string line, setup_failed, last;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    last = line;
    if (!line.starts_with("E: ") || line == "E: mmdebstrap failed to run") continue;
    if (!line.starts_with("E: setup failed")) return line;
    if (setup_failed.empty()) setup_failed = line;
  }
  std::string said = setup_failed.empty() ? last : setup_failed;
  // "setup failed" quotes a whole dpkg command line with every .deb in it.
  constexpr size_t kMax = 200;
  return said.size() > kMax ? said.substr(0, kMax - 3) + "..." : said;
}

Error debian_error(const spec::DebianImage& d, const sys::CommandResult& r) {
  std::vector<std::string> missing;
  std::istringstream lines(r.output);
  const std::string marker = "E: Unable to locate package ";
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(marker)) missing.push_back(line.substr(marker.size()));
  std::string said = mmdebstrap_error(r.output);
  if (missing.size() == 1)
    return Error{
        "package " + missing[0] + " does not exist in Debian " + d.suite + " (mmdebstrap: " + said + ")",
        ENOENT};
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    return Error{"packages " + names + " do not exist in Debian " + d.suite + " (mmdebstrap: " + said + ")",
                 ENOENT};
  }
  return Error{fmt::format("mmdebstrap failed (exit code {}): {}", r.exit_code, said)};
}

Status build_debian(const spec::DebianImage& d, const std::string& partial, const Progress& say) {
  auto found = sys::find_executable("mmdebstrap");
  if (!found) return Error{"mmdebstrap is not installed (apt-get install mmdebstrap)", ENOENT};
  // Straight into the entry's directory: a tarball format would make
  // mmdebstrap build in a temporary directory, pack it and delete it, and us
  // unpack it again (twice the time on this VM). We pack it once ourselves.
  std::vector<std::string> argv{"mmdebstrap", "--mode=root", "--format=directory", "--variant=" + d.variant};
  if (!d.packages.empty()) {
    std::string include;
    for (const auto& p : d.packages) include += (include.empty() ? "" : ",") + p;
    argv.push_back("--include=" + include);
  }
  argv.push_back(d.suite);
  argv.push_back(partial + "/rootfs");

  // A dry run resolves the packages in seconds; a real one may install the
  // essential set for 20 s before apt finds out that a name is misspelt.
  auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  say("checking the packages...");
  // It sets apt up in its target: give it one of its own.
  std::vector<std::string> dry = argv;
  dry.insert(dry.begin() + 1, "--simulate");
  dry.back() = partial + "/check";
  auto checked = run_streaming(dry, {});
  if (Status st = remove_partial(partial + "/check"); !st) return st;
  if (!checked) return checked.error();
  if (checked->exit_code != 0) return debian_error(d, *checked);

  auto built = run_streaming(argv, [&](const std::string& line) {
    if (line.starts_with("I: ")) say(fmt::format("  mmdebstrap [{:5.1f} s] {}", elapsed(), line.substr(3)));
  });
  if (!built) return built.error();
  // A Ctrl-C reaches mmdebstrap too; its complaint about it is not the news.
  if (built->exit_code != 0 && sys::interrupt_signal() != 0)
    return Error{
        fmt::format("interrupted by SIG{}; nothing was cached", sigabbrev_np(sys::interrupt_signal())),
        EINTR};
  if (built->exit_code != 0) return debian_error(d, *built);
  say("packing the root file system into a tarball...");
  return pack(partial + "/rootfs", partial + "/rootfs.tar");
}

// Whether a file starts like an uncompressed tar archive (ustar magic).
bool is_plain_tar(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[512] = {};
  in.read(header, sizeof header);
  return in.gcount() == sizeof header && std::memcmp(header + 257, "ustar", 5) == 0;
}

Status build_rootfs(const spec::RootfsImage& r, const std::string& partial) {
  if (Status st = extract(r.tarball, partial + "/rootfs"); !st) return st;
  if (!is_plain_tar(r.tarball)) return pack(partial + "/rootfs", partial + "/rootfs.tar");
  std::error_code ec;
  fs::copy_file(r.tarball, partial + "/rootfs.tar", ec);
  if (ec) return fs_error("cannot copy " + r.tarball, ec);
  return {};
}

// Whether an ELF executable needs no dynamic loader: only a static busybox
// runs in an image that has no libc.
Result<bool> is_static_elf(const std::string& path) {
  auto bytes = sys::read_file(path);
  if (!bytes) return bytes.error();
  const std::string& b = *bytes;
  Elf64_Ehdr eh;
  if (b.size() < sizeof eh || b.compare(0, SELFMAG, ELFMAG) != 0 || b[EI_CLASS] != ELFCLASS64)
    return Error{path + " is not a 64-bit ELF executable", ENOEXEC};
  std::memcpy(&eh, b.data(), sizeof eh);
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    size_t off = eh.e_phoff + i * eh.e_phentsize;
    if (off + sizeof ph > b.size()) break;
    std::memcpy(&ph, b.data() + off, sizeof ph);
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

Status write_text(const fs::path& path, const std::string& content, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return fs_error("cannot create " + path.parent_path().string(), ec);
  // Replace, never write through: the path may be one of busybox's links.
  fs::remove(path, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return Error{"cannot write " + path.string(), EIO};
  fs::permissions(path, mode, ec);
  if (ec) return fs_error("cannot set the mode of " + path.string(), ec);
  return {};
}

Status build_busybox(const spec::BusyboxImage& b, const std::string& partial) {
  auto is_static = is_static_elf(kHostBusybox);
  if (!is_static) return is_static.error();
  if (!*is_static)
    return Error{std::string(kHostBusybox) + " is dynamically linked; apt-get install busybox-static",
                 ENOEXEC};
  fs::path root = partial + "/rootfs";
  std::error_code ec;
  for (const char* dir : {"bin", "etc", "root", "tmp", "proc", "sys", "dev"}) {
    fs::create_directories(root / dir, ec);
    if (ec) return fs_error("cannot create " + (root / dir).string(), ec);
  }
  fs::permissions(root / "tmp", fs::perms::all | fs::perms::sticky_bit, ec);
  if (!ec) fs::permissions(root / "root", fs::perms::owner_all, ec);
  if (!ec) fs::copy_file(kHostBusybox, root / "bin/busybox", ec);
  if (ec) return fs_error("cannot set up " + root.string(), ec);

  auto applets = run_ok({kHostBusybox, "--list"}, 60s);
  if (!applets) return applets.error();
  std::istringstream names(applets->output);
  for (std::string name; names >> name;) {
    if (name == "busybox" || name.find('/') != std::string::npos) continue;
    fs::create_symlink("busybox", root / "bin" / name, ec);
    if (ec) return fs_error("cannot link " + (root / "bin" / name).string(), ec);
  }

  constexpr auto kReadable =
      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
  constexpr auto kExecutable =
      kReadable | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;
  Status st = write_text(
      root / "etc/passwd",
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", kReadable);
  if (st) st = write_text(root / "etc/group", "root:x:0:\nnogroup:x:65534:\n", kReadable);
  if (!st) return st;
  // Scripts ("#!") are executable; everything else is plain data.
  for (const auto& [path, content] : b.files) {
    st = write_text(root / path.substr(1), content, content.starts_with("#!") ? kExecutable : kReadable);
    if (!st) return st;
  }
  return pack(root.string(), partial + "/rootfs.tar");
}

// ------------------------------------------------------------------- cache

// An entry is complete once it exists: it is renamed into place whole.
bool complete(const std::string& entry) {
  std::error_code ec;
  return fs::is_regular_file(entry + "/recipe.json", ec);
}

}  // namespace

Result<std::string> recipe_hash(const spec::Image& image) {
  auto r = recipe(image);
  if (!r) return r.error();
  return sha256_of_text(r->dump());
}

std::string image_ref(const std::string& name, const std::string& hash) {
  return "sandmine/" + name + ":" + hash12(hash);
}

namespace detail {

Result<CacheEntry> cache_entry(const nlohmann::json& recipe, const BuildOptions& options,
                               const std::string& what,
                               const std::function<Status(const std::string&)>& make) {
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  auto start = Clock::now();
  auto hash = sha256_of_text(recipe.dump());
  if (!hash) return hash.error();

  const std::string entry = options.cache_dir + "/" + *hash;
  CacheEntry out{entry, *hash, true};
  auto found = [&] {
    say("image " + options.name + " found in the cache (" + hash12(*hash) + ")");
    return out;
  };
  if (complete(entry)) return found();

  std::error_code ec;
  fs::create_directories(options.cache_dir, ec);
  if (ec)
    return fs_error("cannot create the image cache " + options.cache_dir +
                        (ec == std::errc::permission_denied ? " (run as root or choose another cache)" : ""),
                    ec);
  auto lock = sys::FileLock::take(entry + ".lock",
                                  [&] { say("waiting for another build of the same image to finish..."); });
  if (!lock) return lock.error();
  if (complete(entry)) return found();  // built by whoever held the lock

  // Left by a build that was interrupted: we hold the lock, so nobody owns it.
  const std::string partial = entry + ".partial";
  if (Status st = remove_partial(partial); !st) return st.error();
  fs::create_directories(partial + "/rootfs", ec);
  if (ec) return fs_error("cannot create " + partial, ec);

  say("building image " + options.name + " " + what);
  Status built = make(partial);
  if (built) {
    std::ofstream recipe_file(partial + "/recipe.json");
    recipe_file << recipe.dump(2) << "\n";
    recipe_file.close();
    if (!recipe_file) built = Error{"cannot write " + partial + "/recipe.json", EIO};
  }
  if (built) {
    std::error_code ec;
    std::filesystem::rename(partial, entry, ec);
    if (ec) built = Error{"cannot rename " + partial + ": " + ec.message(), ec.value()};
  }
  if (!built) {
    (void)remove_partial(partial);  // the build's own error is the one to report
    return built.error();
  }
  out.cached = false;
  say(fmt::format("image ready in {:.1f} s (cached as {})",
                  std::chrono::duration<double>(Clock::now() - start).count(), hash12(*hash)));
  return out;
}

}  // namespace detail

Result<Rootfs> build(const spec::Image& image, const BuildOptions& options) {
  auto fail = [&](const Error& e) {
    return Error{"cannot build image " + options.name + ": " + e.message, e.errnum};
  };
  auto rec = recipe(image);
  if (!rec) return fail(rec.error());
  const bool debian = std::holds_alternative<spec::DebianImage>(image);
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  auto entry = detail::cache_entry(*rec, options,
                                   "(" + describe(image) + ")" + (debian ? " with mmdebstrap..." : "..."),
                                   [&](const std::string& partial) -> Status {
                                     return std::visit(
                                         [&](const auto& img) -> Status {
                                           using T = std::decay_t<decltype(img)>;
                                           if constexpr (std::is_same_v<T, spec::DebianImage>)
                                             return build_debian(img, partial, say);
                                           else if constexpr (std::is_same_v<T, spec::RootfsImage>)
                                             return build_rootfs(img, partial);
                                           else if constexpr (std::is_same_v<T, spec::BusyboxImage>)
                                             return build_busybox(img, partial);
                                           else
                                             return ref_error(image);
                                         },
                                         image);
                                   });
  if (!entry) return fail(entry.error());
  return Rootfs{entry->dir + "/rootfs", entry->dir + "/rootfs.tar", entry->hash, entry->cached};
}

Result<std::string> import_into(const std::string& engine_cli, const Rootfs& rootfs, const std::string& name,
                                const Progress& progress) {
  const std::string engine = fs::path(engine_cli).filename().string();
  const std::string ref = image_ref(name, rootfs.hash);
  auto inspect =
      sys::run_command({engine_cli, "image", "inspect", "--format", "{{.Id}}", ref}, {.timeout = 60s});
  if (!inspect) return Error{"cannot run " + engine + ": " + inspect.error().message, inspect.error().errnum};
  if (inspect->exit_code == 0) return ref;

  if (progress) progress("importing image " + ref + " into " + engine + "...");
  auto imported = sys::run_command({engine_cli, "import", "-c", "LABEL sandmine=1", rootfs.tarball, ref},
                                   {.timeout = 30min});
  if (!imported)
    return Error{"cannot run " + engine + ": " + imported.error().message, imported.error().errnum};
  if (imported->timed_out)
    return Error{"cannot import image " + ref + " into " + engine + ": timed out", ETIMEDOUT};
  if (imported->exit_code != 0)
    return Error{"cannot import image " + ref + " into " + engine + ": " + imported->last_line()};
  return ref;
}

}  // namespace sandmine::image
