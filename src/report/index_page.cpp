#include "report/index_page.h"

#include <fmt/format.h>

#include <cctype>

namespace sandmine::report {

namespace {

// A path segment for an href: the characters a spec name may hold
// ([a-z0-9_.-]) pass, anything else is percent-encoded.
std::string href_segment(const std::string& s) {
  std::string out;
  for (unsigned char c : s)
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  return out;
}

std::string cell(const std::string& text, bool num = true) {
  return fmt::format("<td{}>{}</td>", num ? " class=\"num\"" : "", html_escape(text));
}

}  // namespace

std::string index_html(const std::vector<IndexRow>& rows) {
  std::string s = page_start("sandmine: " + std::to_string(rows.size()) + " containers");
  s += fmt::format("<h1>sandmine: {} containers</h1>\n", rows.size());
  s +=
      "<p class=\"meta\">One row per container; each name links to its report. Share: the profile's syscalls "
      "on x86_64 over those Docker's default allows. Coverage: the estimated sample coverage of its explore "
      "steps (docs/coverage.md). Overhead: the profile's throughput over unconfined's (bench.json).</p>\n";
  s += "<table class=\"index\"><thead><tr><th>container</th><th>syscalls allowed</th><th>share of Docker's "
       "default</th><th>mining time (s)</th><th>coverage</th><th>held-out violations</th><th>overhead</th>"
       "<th>status</th></tr></thead><tbody>\n";
  for (const auto& row : rows) {
    s += "<tr>";
    if (row.run)
      s += fmt::format("<td><a href=\"{}\">{}</a></td>", html_escape(href_segment(row.dir + "/report.html")),
                       html_escape(row.name));
    else
      s += cell(row.name, false);
    if (row.run) {
      Headline h = headline(*row.run);
      s += cell(h.allowed ? std::to_string(*h.allowed) : "none");
      s += cell(h.docker_share ? fmt::format("{:.0f}%", *h.docker_share * 100) : "n/a");
      s += cell(fmt::format("{:.1f}", h.mining_seconds));
      s +=
          cell(h.coverage && h.coverage->sample_coverage ? fmt::format("{:.3f}", *h.coverage->sample_coverage)
                                                         : "n/a");
      s += cell(h.violations ? std::to_string(*h.violations) : "not checked");
      s += cell(h.overhead_ratio ? fmt::format("{:.3f}x", *h.overhead_ratio) : "n/a");
    } else {
      for (int i = 0; i < 6; ++i) s += cell("n/a");
    }
    s += fmt::format("<td class=\"{}\">{}</td></tr>\n", row.exit_code == 0 ? "ok" : "bad",
                     html_escape(row.status));
  }
  s += "</tbody></table>\n";
  return s + page_end();
}

}  // namespace sandmine::report
