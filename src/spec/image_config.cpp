#include "spec/image_config.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace sandmine::spec {

namespace {

using nlohmann::json;

// A list of strings from the config; null or missing is empty.
Result<std::vector<std::string>> string_list(const json& config, const char* key) {
  std::vector<std::string> out;
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return out;
  if (!it->is_array()) return Error{std::string("the image config's ") + key + " is not a list", EINVAL};
  for (const auto& v : *it) {
    if (!v.is_string())
      return Error{std::string("the image config's ") + key + " holds a non-string", EINVAL};
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::string> string_field(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error{std::string("the image config's ") + key + " is not a string", EINVAL};
  return it->get<std::string>();
}

std::optional<unsigned> id_number(std::string_view s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > 4294967294ULL) return std::nullopt;
  return static_cast<unsigned>(v);
}

// The colon-separated fields of each non-comment line of an /etc file.
std::vector<std::vector<std::string>> etc_records(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t colon; (colon = line.find(':', start)) != std::string::npos; start = colon + 1)
      fields.push_back(line.substr(start, colon - start));
    fields.push_back(line.substr(start));
    out.push_back(std::move(fields));
  }
  return out;
}

struct PasswdEntry {
  std::string name;
  unsigned uid = 0, gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  unsigned gid = 0;
  std::vector<std::string> members;
};

std::vector<PasswdEntry> passwd_entries(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (const auto& f : etc_records(text)) {
    if (f.size() < 4) continue;
    auto uid = id_number(f[2]), gid = id_number(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid, f.size() > 5 ? f[5] : ""});
  }
  return out;
}

std::vector<GroupEntry> group_entries(std::string_view text) {
  std::vector<GroupEntry> out;
  for (const auto& f : etc_records(text)) {
    if (f.size() < 3) continue;
    auto gid = id_number(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() > 3) {
      std::istringstream members(f[3]);
      for (std::string m; std::getline(members, m, ',');)
        if (!m.empty()) g.members.push_back(m);
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

Result<ImageConfig> parse_image_config(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Error{"the image config is not a JSON object", EINVAL};
  ImageConfig out;
  auto it = doc.find("config");
  if (it == doc.end() || it->is_null()) return out;  // an image with no config runs nothing by itself
  if (!it->is_object()) return Error{"the image config's config is not an object", EINVAL};
  const json& c = *it;
  auto entrypoint = string_list(c, "Entrypoint");
  if (!entrypoint) return entrypoint.error();
  auto cmd = string_list(c, "Cmd");
  if (!cmd) return cmd.error();
  auto env = string_list(c, "Env");
  if (!env) return env.error();
  auto user = string_field(c, "User");
  if (!user) return user.error();
  auto workdir = string_field(c, "WorkingDir");
  if (!workdir) return workdir.error();
  auto stop = string_field(c, "StopSignal");
  if (!stop) return stop.error();
  out.entrypoint = std::move(*entrypoint);
  out.cmd = std::move(*cmd);
  out.env = std::move(*env);
  out.user = std::move(*user);
  out.workdir = std::move(*workdir);
  out.stop_signal = std::move(*stop);

  std::set<int> ports;
  if (auto p = c.find("ExposedPorts"); p != c.end() && p->is_object()) {
    for (const auto& [key, value] : p->items()) {
      std::string_view k = key;
      size_t slash = k.find('/');
      std::string_view proto = slash == std::string_view::npos ? "tcp" : k.substr(slash + 1);
      auto n = id_number(k.substr(0, slash));
      if (proto == "tcp" && n && *n >= 1 && *n <= 65535) ports.insert(static_cast<int>(*n));
    }
  }
  out.tcp_ports.assign(ports.begin(), ports.end());

  if (auto h = c.find("Healthcheck"); h != c.end() && h->is_object()) {
    auto test = string_list(*h, "Test");
    if (!test) return test.error();
    if (!test->empty() && (*test)[0] != "NONE") out.healthcheck = std::move(*test);
  }
  return out;
}

std::vector<std::string> health_command(const ImageConfig& config) {
  const auto& test = config.healthcheck;
  if (test.size() >= 2 && test[0] == "CMD") return {test.begin() + 1, test.end()};
  if (test.size() == 2 && test[0] == "CMD-SHELL") return {"/bin/sh", "-c", test[1]};
  return {};
}

std::optional<ReadyProbe> ready_from_config(const ImageConfig& config) {
  if (auto health = health_command(config); !health.empty())
    return ReadyProbe{.kind = ReadyProbe::Kind::Exec, .exec = std::move(health)};
  if (!config.tcp_ports.empty())
    return ReadyProbe{.kind = ReadyProbe::Kind::Tcp, .port = config.tcp_ports[0]};
  return std::nullopt;
}

Result<ResolvedUser> resolve_user(std::string_view user, const ImageFiles& files) {
  size_t colon = user.find(':');
  std::string_view user_part = user.substr(0, colon);
  std::optional<std::string_view> group_part;
  if (colon != std::string_view::npos) group_part = user.substr(colon + 1);

  ResolvedUser out;
  auto uid = id_number(user_part);
  std::optional<PasswdEntry> entry;
  for (const auto& e : passwd_entries(files.passwd)) {
    bool match = user_part.empty() ? e.uid == 0 : uid ? e.uid == *uid : e.name == user_part;
    if (match) {
      entry = e;
      break;
    }
  }
  if (entry) {
    out.uid = entry->uid;
    out.gid = entry->gid;
    out.home = entry->home;
  } else if (!user_part.empty() && !uid) {
    return Error{"no user \"" + std::string(user_part) + "\" in the image's /etc/passwd", ENOENT};
  } else if (uid) {
    out.uid = *uid;
  }

  auto groups = group_entries(files.group);
  if (group_part) {
    auto gid = id_number(*group_part);
    auto g = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) {
      return g.name == *group_part || (gid && g.gid == *gid);
    });
    if (g != groups.end())
      out.gid = g->gid;
    else if (gid)
      out.gid = *gid;
    else
      return Error{"no group \"" + std::string(*group_part) + "\" in the image's /etc/group", ENOENT};
  } else if (entry) {
    for (const auto& g : groups)
      if (std::find(g.members.begin(), g.members.end(), entry->name) != g.members.end())
        out.additional_gids.push_back(g.gid);
  }
  return out;
}

Result<Spec> apply_image_config(const Spec& spec, const ImageConfig& config, const ImageFiles& files) {
  Spec out = spec;
  // Kubernetes' rule: command replaces Entrypoint (and with it Cmd), args replaces Cmd.
  if (spec.command.empty()) {
    out.command = config.entrypoint;
    const auto& cmd = spec.args ? *spec.args : config.cmd;
    out.command.insert(out.command.end(), cmd.begin(), cmd.end());
  } else if (spec.args) {
    out.command.insert(out.command.end(), spec.args->begin(), spec.args->end());
  }
  out.args.reset();
  if (out.command.empty())
    return spec_error(spec.file, spec.image_line,
                      "command: the image has no Entrypoint or Cmd; give command (and optionally args)");
  if (out.command[0].empty())
    return spec_error(spec.file, spec.command_line ? spec.command_line : spec.image_line,
                      "command: the program must not be empty");

  const bool own_user = !spec.user.empty();
  auto user = resolve_user(own_user ? spec.user : config.user, files);
  if (!user)
    return spec_error(spec.file, own_user ? spec.user_line : spec.image_line,
                      own_user ? "user: " + user.error().message
                               : "image: the image's User \"" + config.user + "\": " + user.error().message);
  out.user = std::to_string(user->uid) + ":" + std::to_string(user->gid);
  // The primary group is a supplementary group too, as Docker (since 20.10.18)
  // and Podman (since 4.2) make it (CVE-2022-36109, CVE-2022-2989): given to
  // every engine, each sees the same list. Each group once: setgroups keeps
  // duplicates, Docker and Podman do not.
  out.additional_gids.clear();
  for (unsigned g : user->additional_gids)
    if (std::find(out.additional_gids.begin(), out.additional_gids.end(), g) == out.additional_gids.end())
      out.additional_gids.push_back(g);
  if (std::find(out.additional_gids.begin(), out.additional_gids.end(), user->gid) ==
      out.additional_gids.end())
    out.additional_gids.push_back(user->gid);

  out.env.clear();
  for (const auto& kv : config.env) {
    size_t eq = kv.find('=');
    if (eq == 0 || eq == std::string::npos) continue;  // not NAME=value: Docker ignores it too
    out.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.env) out.env[k] = v;
  // What runc sets when the environment has no HOME, made explicit so that
  // every engine gives the same.
  if (!out.env.count("HOME")) out.env["HOME"] = user->home.empty() ? "/" : user->home;

  if (spec.workdir.empty() && !config.workdir.empty())
    out.workdir = config.workdir.starts_with('/') ? config.workdir : "/" + config.workdir;

  if (!spec.stop.signal_given && !config.stop_signal.empty()) {
    auto sig = parse_signal(config.stop_signal);
    if (!sig)
      return spec_error(spec.file, spec.image_line,
                        "image: the image's StopSignal \"" + config.stop_signal + "\" is not a signal");
    out.stop.signal = *sig;
  }

  if (!spec.ready) {
    out.ready = ready_from_config(config);
    if (out.ready) out.ready->line = spec.image_line;
  }
  for (auto& step : out.explore)
    if (step.kind == Step::Kind::Auto && step.generate.health.empty())
      step.generate.health = health_command(config);
  return out;
}

}  // namespace sandmine::spec
