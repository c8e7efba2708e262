#include "report/reach_section.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "report/html.h"

namespace sandmine::report {

using nlohmann::json;

namespace {

// Read without exceptions: a field of another type reads as empty.
std::size_t count_of(const json& j, const char* key) {
  return j.is_object() && j.contains("counts") && j["counts"].is_object() && j["counts"].contains(key) &&
                 j["counts"][key].is_number_unsigned()
             ? j["counts"][key].get<std::size_t>()
             : 0;
}
std::string text(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}
const json& list(const json& j, const char* key) {
  static const json empty = json::array();
  return j.is_object() && j.contains(key) && j[key].is_array() ? j[key] : empty;
}
bool yes(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}
// "x86_64: a, b; x86: c" from {"x86_64": [...], ...}.
std::string names(const json& sets) {
  std::string out;
  if (!sets.is_object()) return out;
  for (const auto& [arch, v] : sets.items()) {
    std::string part;
    for (const auto& n : v)
      if (n.is_string()) part += (part.empty() ? "" : ", ") + n.get<std::string>();
    if (!part.empty()) out += (out.empty() ? "" : "; ") + arch + ": " + part;
  }
  return out;
}
// "name (risk; CVE-...)" for an unseen entry.
std::string unseen_item(const json& u) {
  std::string s = text(u, "name");
  if (text(u, "arch") != "x86_64") s = text(u, "arch") + ":" + s;
  std::string why = text(u, "risk");
  for (const auto& c : list(u, "cves"))
    if (c.is_string()) why += (why.empty() ? "" : ", ") + c.get<std::string>();
  return why.empty() ? s : s + " (" + why + ")";
}

// "fsync() from /usr/bin/redis-server; ... and 3 more": the first sources of
// an unseen entry (where a step would have to go to make it).
std::string via_text(const json& u, std::size_t shown = 3) {
  std::string out;
  std::size_t n = 0;
  for (const auto& v : list(u, "via"))
    if (v.is_string() && n < shown) {
      out += (out.empty() ? "" : "; ") + v.get<std::string>();
      ++n;
    }
  std::size_t total = u.is_object() && u.contains("via_total") && u["via_total"].is_number_unsigned()
                          ? u["via_total"].get<std::size_t>()
                          : n;
  if (total > n) out += fmt::format("; and {} more", total - n);
  return out;
}

bool risky_entry(const json& u) { return !text(u, "risk").empty() || !list(u, "cves").empty(); }

}  // namespace

std::string reach_markdown(const json& r) {
  std::string s = "## Static reachability\n\n";
  s += fmt::format(
      "What the code of the binaries the container ran can reach (`sandmine reach`, reach.json; "
      "docs/reach.md): "
      "{} syscalls reachable, {} seen, {} reachable but never seen ({} of them risky or on a kernel CVE "
      "path), "
      "{} of those safe to add (`--allow reachable-safe`).{}\n\n",
      count_of(r, "reachable"), count_of(r, "seen"), count_of(r, "unseen"), count_of(r, "unseen_risky"),
      count_of(r, "reachable_safe"),
      yes(r, "estimate") ? " The result is an estimate (reasons per binary below)." : "");
  if (count_of(r, "seen_unreachable"))
    s += "**Seen but unreachable (a gap in the analysis):** " +
         names(r.value("seen_unreachable", json::object())) + "\n\n";
  if (count_of(r, "fatal_path"))
    s += "Reachable only on paths that end the process (not counted, not added): " +
         names(r.value("fatal_path", json::object())) + "\n\n";
  s += "| binary | execs | reachable | unseen | unseen risky | estimate because "
       "|\n|---|---|---|---|---|---|\n";
  for (const auto& b : list(r, "binaries")) {
    std::string why;
    for (const auto& e : list(b, "estimate_reasons"))
      if (e.is_string()) why += (why.empty() ? "" : "; ") + e.get<std::string>();
    if (!text(b, "error").empty()) why = "not analysed: " + text(b, "error");
    s += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", text(b, "path"),
                     b.value("execs", json(0)).is_number() ? b["execs"].get<std::uint64_t>() : 0,
                     count_of(b, "reachable"), count_of(b, "unseen"), count_of(b, "unseen_risky"), why);
  }
  std::string risky, rest;
  for (const auto& u : list(r, "unseen")) {
    if (risky_entry(u))
      risky += fmt::format("| {} | {} |\n", unseen_item(u), via_text(u));
    else
      rest += (rest.empty() ? "" : ", ") + unseen_item(u);
  }
  if (!risky.empty())
    s += "\nReachable, never seen, risky or on a CVE path, and where the code that reaches each starts "
         "(a step that drives that code would show whether the container needs it):\n\n"
         "| syscall | reached through |\n|---|---|\n" +
         risky;
  if (!rest.empty()) s += "\nReachable, never seen, otherwise: " + rest + "\n";
  return s + "\n";
}

std::string with_reach_section(const std::string& summary, const json& reach) {
  const std::string head = "## Static reachability\n";
  auto at = summary.find(head);
  if (at == std::string::npos) {
    std::string s = summary;
    if (!s.empty() && s.back() != '\n') s += '\n';
    if (!s.empty()) s += '\n';
    return s + reach_markdown(reach);
  }
  auto next = summary.find("\n## ", at + head.size());
  return summary.substr(0, at) + reach_markdown(reach) +
         (next == std::string::npos ? "" : summary.substr(next + 1));
}

std::string reach_html(const json& r) {
  std::string s = "<section id=\"reach\"><h2>Static reachability</h2>\n";
  s += fmt::format(
      "<p>What the code of the binaries the container ran can reach: <b>{}</b> syscalls reachable, <b>{}</b> "
      "seen, "
      "<b>{}</b> reachable but never seen ({} risky or on a kernel CVE path), {} safe to add with "
      "<code>--allow reachable-safe</code>.{}</p>\n",
      count_of(r, "reachable"), count_of(r, "seen"), count_of(r, "unseen"), count_of(r, "unseen_risky"),
      count_of(r, "reachable_safe"), yes(r, "estimate") ? " An estimate: see the reasons per binary." : "");
  if (count_of(r, "seen_unreachable"))
    s += "<p class=\"bad\">Seen but unreachable (a gap in the analysis): " +
         html_escape(names(r.value("seen_unreachable", json::object()))) + "</p>\n";
  if (count_of(r, "fatal_path"))
    s += "<p>Reachable only on paths that end the process (not counted, not added): " +
         html_escape(names(r.value("fatal_path", json::object()))) + "</p>\n";
  s += "<table class=\"reach\"><thead><tr><th>binary</th><th>execs</th><th>reachable</th><th>unseen</th>"
       "<th>unseen risky</th><th>estimate because</th></tr></thead><tbody>\n";
  for (const auto& b : list(r, "binaries")) {
    std::string why;
    for (const auto& e : list(b, "estimate_reasons"))
      if (e.is_string()) why += (why.empty() ? "" : "; ") + e.get<std::string>();
    if (!text(b, "error").empty()) why = "not analysed: " + text(b, "error");
    s += fmt::format(
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape(text(b, "path")),
        b.value("execs", json(0)).is_number() ? b["execs"].get<std::uint64_t>() : 0, count_of(b, "reachable"),
        count_of(b, "unseen"), count_of(b, "unseen_risky"), html_escape(why));
  }
  s += "</tbody></table>\n";
  std::string risky;
  for (const auto& u : list(r, "unseen"))
    if (risky_entry(u))
      risky +=
          "<tr><td>" + html_escape(unseen_item(u)) + "</td><td>" + html_escape(via_text(u)) + "</td></tr>\n";
  if (!risky.empty())
    s +=
        "<p>Reachable, never seen, risky or on a CVE path, and where the code that reaches each starts:</p>\n"
        "<table class=\"reach-risky\"><thead><tr><th>syscall</th><th>reached "
        "through</th></tr></thead><tbody>\n" +
        risky + "</tbody></table>\n";
  return s + "</section>\n";
}

}  // namespace sandmine::report
