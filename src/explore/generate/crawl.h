#pragma once
// What an HTML page links to on its own site: links (href, src), forms
// (action, method, field names) and, since a listed directory is a page of
// links, the entries of directory listings. Paths are resolved against the
// page's path and kept only when they stay on the site.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sandmine::explore::generate {

/// A form: where it goes, how, with which fields.
struct Form {
  std::string action;  ///< a path on the site
  std::string method;  ///< GET or POST (upper case)
  std::vector<std::string> fields;
  auto operator<=>(const Form&) const = default;
};

/// What a page links to.
struct PageLinks {
  std::vector<std::string> links;  ///< site paths, in order of first appearance, without duplicates
  std::vector<Form> forms;
};

/// The site path ref points to from a page at base ("/a/b.html"): relative
/// references resolved, dot segments removed, the fragment dropped, the query
/// kept. nothing for other sites (a scheme or "//" with a host other than
/// localhost or 127.0.0.1), mailto:, javascript:, data: and empty references.
std::optional<std::string> resolve(std::string_view base, std::string_view ref);

/// The links and forms of an HTML page at base.
PageLinks extract_links(std::string_view html, std::string_view base);

/// "a=x&b=x" for a form's fields (each filled with "sandmine").
std::string form_body(const Form& form);

}  // namespace sandmine::explore::generate
