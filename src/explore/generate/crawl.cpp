#include "explore/generate/crawl.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace sandmine::explore::generate {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "/a/./b/../c" -> "/a/c"; a trailing slash (or dot segment) is kept as "/".
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> segments;
  for (size_t at = 1;;) {  // past the leading '/'
    size_t slash = path.find('/', at);
    segments.push_back(
        path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  std::vector<std::string_view> parts;
  for (auto seg : segments) {
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (seg != "." && !seg.empty()) {
      parts.push_back(seg);
    }
  }
  auto last = segments.back();
  bool trailing = last.empty() || last == "." || last == "..";
  std::string out;
  for (auto p : parts) (out += "/") += p;
  if (out.empty() || trailing) out += "/";
  return out;
}

// The value of attribute name in a tag's text, or nothing.
std::optional<std::string> attribute(const std::string& tag, const std::string& name) {
  std::regex re("\\s" + name + "\\s*=\\s*(\"([^\"]*)\"|'([^']*)'|([^\\s>]+))", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(tag, m, re)) return std::nullopt;
  for (int i = 2; i <= 4; ++i)
    if (m[i].matched) return m[i].str();
  return std::nullopt;
}

// HTML's few entities that appear in URLs.
std::string unescape(std::string s) {
  for (size_t at; (at = s.find("&amp;")) != std::string::npos;) s.replace(at, 5, "&");
  return s;
}

}  // namespace

std::optional<std::string> resolve(std::string_view base, std::string_view ref) {
  std::string r(ref);
  while (!r.empty() && std::isspace(static_cast<unsigned char>(r.front()))) r.erase(0, 1);
  while (!r.empty() && std::isspace(static_cast<unsigned char>(r.back()))) r.pop_back();
  if (auto hash = r.find('#'); hash != std::string::npos) r.erase(hash);
  if (r.empty()) return std::nullopt;
  std::string l = lower(r);
  if (l.starts_with("http://") || l.starts_with("https://") || l.starts_with("//")) {
    size_t host_at = l.find("//") + 2;
    size_t path_at = l.find('/', host_at);
    std::string host =
        l.substr(host_at, path_at == std::string::npos ? std::string::npos : path_at - host_at);
    host = host.substr(0, host.find(':'));
    if (host != "localhost" && host != "127.0.0.1") return std::nullopt;
    r = path_at == std::string::npos ? "/" : r.substr(path_at);
  } else if (auto colon = l.find(':'); colon != std::string::npos && l.find('/') > colon) {
    return std::nullopt;  // mailto:, javascript:, data:, ...
  }
  std::string query;
  if (auto q = r.find('?'); q != std::string::npos) {
    query = r.substr(q);
    r.erase(q);
  }
  if (r.empty()) {
    r = std::string(base.substr(0, base.find('?')));
  } else if (r.front() != '/') {
    std::string_view dir = base.substr(0, base.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    r = std::string(dir) + r;
  }
  return remove_dot_segments(r) + query;
}

PageLinks extract_links(std::string_view html, std::string_view base) {
  PageLinks out;
  std::string text(html);
  std::regex tag_re("<\\s*(a|link|img|script|iframe|frame|area|form|input|select|textarea|/form)\\b[^>]*>",
                    std::regex::icase);
  Form* form = nullptr;
  auto add_link = [&](const std::string& path) {
    if (std::find(out.links.begin(), out.links.end(), path) == out.links.end()) out.links.push_back(path);
  };
  for (auto it = std::sregex_iterator(text.begin(), text.end(), tag_re); it != std::sregex_iterator(); ++it) {
    std::string tag = it->str(0);
    std::string name = lower(it->str(1));
    if (name == "form") {
      Form f;
      auto action = attribute(tag, "action");
      auto path = resolve(base, action ? unescape(*action) : std::string(base));
      f.action = path.value_or(std::string(base));
      f.method = lower(attribute(tag, "method").value_or("get")) == "post" ? "POST" : "GET";
      out.forms.push_back(f);
      form = &out.forms.back();
      continue;
    }
    if (name == "/form") {
      form = nullptr;
      continue;
    }
    if (name == "input" || name == "select" || name == "textarea") {
      if (form)
        if (auto field = attribute(tag, "name"); field && !field->empty()) form->fields.push_back(*field);
      continue;
    }
    for (const char* attr : {"href", "src"})
      if (auto ref = attribute(tag, attr))
        if (auto path = resolve(base, unescape(*ref))) add_link(*path);
  }
  return out;
}

std::string form_body(const Form& form) {
  std::string out;
  for (const auto& f : form.fields) {
    if (!out.empty()) out += "&";
    out += f + "=sandmine";
  }
  return out;
}

}  // namespace sandmine::explore::generate
