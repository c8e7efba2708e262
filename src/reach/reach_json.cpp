#include "reach/reach_json.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace sandmine::reach {

using nlohmann::json;

namespace {

json sets(const NameSets& s) {
  json out = json::object();
  for (const auto& [arch, names] : s)
    if (!names.empty()) out[arch] = names;
  return out;
}

std::size_t total(const NameSets& s) {
  std::size_t n = 0;
  for (const auto& [arch, names] : s) n += names.size();
  return n;
}

json unseen_json(const std::vector<UnseenSyscall>& unseen) {
  json out = json::array();
  for (const auto& u : unseen) {
    json j = {{"arch", u.arch}, {"name", u.name}, {"risk", u.risk.empty() ? json(nullptr) : json(u.risk)},
              {"cves", u.cves}, {"via", u.via},   {"via_total", u.via_total}};
    out.push_back(std::move(j));
  }
  return out;
}

std::size_t risky(const std::vector<UnseenSyscall>& unseen) {
  std::size_t n = 0;
  for (const auto& u : unseen)
    if (!u.risk.empty() || !u.cves.empty()) ++n;
  return n;
}

}  // namespace

json to_json(const ReachReport& r, const std::string& image) {
  json binaries = json::array();
  for (const auto& b : r.binaries) {
    json objects = json::array();
    for (const auto& o : b.objects) {
      json j = {{"path", o.path},
                {"kind", o.kind},
                {"build_id", o.build_id},
                {"syscall_sites", o.sites},
                {"unresolved_sites", o.unresolved},
                {"imports", o.imports},
                {"own", sets(o.own)}};
      if (!o.error.empty()) j["error"] = o.error;
      objects.push_back(std::move(j));
    }
    json j = {{"path", b.path},
              {"execs", b.execs},
              {"objects", std::move(objects)},
              {"missing", b.missing},
              {"reachable", sets(b.reachable)},
              {"unseen", unseen_json(b.unseen)},
              {"through_indirect", sets(b.through_indirect)},
              {"fatal_path", sets(b.fatal_path)},
              {"can_cancel", b.can_cancel},
              {"cancellation", sets(b.cancellation)},
              {"counts",
               {{"reachable", total(b.reachable)},
                {"unseen", b.unseen.size()},
                {"unseen_risky", risky(b.unseen)},
                {"through_indirect", total(b.through_indirect)},
                {"fatal_path", total(b.fatal_path)},
                {"cancellation", total(b.cancellation)}}},
              {"estimate", b.estimate},
              {"estimate_reasons", b.estimate_reasons}};
    if (!b.error.empty()) j["error"] = b.error;
    binaries.push_back(std::move(j));
  }
  NameSets safe = reachable_safe(r, r.seen);
  return {{"version", 1},
          {"image", image},
          {"rootfs", r.rootfs},
          {"libc",
           {{"path", r.libc_path},
            {"flavor", r.libc_flavor},
            {"build_id", r.libc_build_id},
            {"cached", r.libc_cached},
            {"seconds", std::round(r.libc_seconds * 1000) / 1000}}},
          {"seconds", std::round(r.seconds * 1000) / 1000},
          {"estimate", r.estimate},
          {"counts",
           {{"reachable", total(r.reachable)},
            {"seen", total(r.seen)},
            {"unseen", r.unseen.size()},
            {"unseen_risky", risky(r.unseen)},
            {"reachable_safe", total(safe)},
            {"seen_unreachable", total(r.seen_unreachable)},
            {"before_first_exec", total(r.before_first_exec)},
            {"fatal_path", total(r.fatal_path)},
            {"cancellation", total(r.cancellation)},
            {"seen_fatal_path", total(r.seen_fatal_path)}}},
          {"reachable", sets(r.reachable)},
          {"seen", sets(r.seen)},
          {"unseen", unseen_json(r.unseen)},
          {"reachable_safe", sets(safe)},
          {"seen_unreachable", sets(r.seen_unreachable)},
          {"before_first_exec", sets(r.before_first_exec)},
          {"fatal_path", sets(r.fatal_path)},
          {"cancellation", sets(r.cancellation)},
          {"seen_fatal_path", sets(r.seen_fatal_path)},
          {"binaries", std::move(binaries)}};
}

}  // namespace sandmine::reach
