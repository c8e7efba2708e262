#pragma once
// Steps on the container's TCP services: probing each listening socket for
// HTTP, crawling HTTP sites, and the request shapes servers handle
// differently, each a step of its own.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "explore/generate/site.h"

namespace sandmine::explore::generate {

/// "auto/tcp:PORT/probe": waits briefly for a banner, then sends GET / and
/// marks the site HTTP when the answer is an HTTP status line.
Recipe probe_recipe(std::shared_ptr<Discovery> discovery, int port);

/// The next crawl request of the site on port ("auto/http:PORT/GET /docs/"),
/// or nothing when its frontier is empty or it has fetched max_pages.
std::optional<Recipe> crawl_recipe(std::shared_ptr<Discovery> discovery, int port, int max_pages);

/// The request shapes for the HTTP site on port, built from what its crawl
/// found: every method (WebDAV's too), conditional and range requests,
/// compression, keep-alive and pipelining, HTTP/1.0 and 0.9, chunked, large
/// and 100-continue bodies, malformed and oversized requests, slow clients,
/// many concurrent connections, unusual paths.
std::vector<Recipe> shape_recipes(std::shared_ptr<Discovery> discovery, int port);

/// The paths fetched on every HTTP site though no page links them
/// (data/http_paths.csv: robots.txt, status pages, /metrics, ...).
const std::vector<std::string>& well_known_paths();

/// What a site serves that is best for body-sized requests: the largest
/// fetched page that answered 200 (not a directory), else "/".
std::string largest_page(const Site& site);

}  // namespace sandmine::explore::generate
