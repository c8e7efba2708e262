#include "explore/generate/edges.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "explore/generate/http.h"
#include "explore/generate/http_steps.h"
#include "explore/generate/replay.h"
#include "sys/cgroup.h"
#include "sys/mounts.h"
#include "sys/net.h"
#include "sys/process.h"

namespace sandmine::explore::generate {

namespace {

using std::chrono::milliseconds;

const TcpInput* first_seed(const std::vector<TcpInput>& seeds, int port) {
  for (const auto& s : seeds)
    if (s.port == port) return &s;
  return nullptr;
}

std::string status_of(const Result<HttpResponse>& r) {
  return r ? fmt::format("HTTP {}", r->status) : "no response (" + r.error().message + ")";
}

}  // namespace

std::string drive_services(Target& t, const Discovery& d, const std::vector<TcpInput>& seeds,
                           Clock::time_point deadline) {
  std::string out;
  for (const auto& site : d.sites) {
    std::string line = fmt::format("tcp:{}: ", site.listener.port);
    if (site.kind == Site::Kind::Http) {
      std::string page = largest_page(site);
      HttpRequest get{.method = "GET", .target = page, .headers = {{"Connection", "close"}}};
      HttpRequest put{.method = "PUT",
                      .target = "/sandmine-edge.bin",
                      .headers = {{"Connection", "close"}},
                      .body = std::string(64 * 1024, 'e')};
      HttpRequest post{.method = "POST",
                       .target = page,
                       .headers = {{"Connection", "close"}},
                       .body = std::string(64 * 1024, 'e')};
      line += "GET " + status_of(http_exchange(t.netns_fd(), site.listener, get, deadline));
      line += ", PUT " + status_of(http_exchange(t.netns_fd(), site.listener, put, deadline));
      line += ", POST " + status_of(http_exchange(t.netns_fd(), site.listener, post, deadline));
      for (const auto& f : site.forms) {
        HttpRequest form{.method = f.method, .target = f.action, .headers = {{"Connection", "close"}}};
        if (f.method == "POST") {
          form.body = form_body(f);
          form.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
        } else {
          form.target += (f.action.find('?') == std::string::npos ? "?" : "&") + form_body(f);
        }
        line += ", form " + status_of(http_exchange(t.netns_fd(), site.listener, form, deadline));
      }
    } else if (const TcpInput* seed = first_seed(seeds, site.listener.port)) {
      line += replay(t, site.listener, *seed, deadline);
    } else {
      auto conn =
          HttpConnection::open(t.netns_fd(), site.listener, std::min(left(deadline), milliseconds(2000)));
      line += conn ? "connected" : "cannot connect: " + conn.error().message;
    }
    out += (out.empty() ? "" : "\n") + line;
  }
  return out.empty() ? "no services to drive" : out;
}

Recipe reset_recipe(std::shared_ptr<Discovery> d, int port, std::vector<TcpInput> seeds) {
  return {.name = fmt::format("auto/edge/reset tcp:{}", port),
          .part = "edge",
          .body = [d, port, seeds](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            const Site* site = d->site(port);
            auto conn = HttpConnection::open(t.netns_fd(), site->listener,
                                             std::min(left(deadline), milliseconds(2000)));
            if (!conn) {
              note(o, "cannot connect: " + conn.error().message);
              return o;
            }
            std::string request;
            if (site->kind == Site::Kind::Http) {
              request = to_wire({.method = "GET", .target = largest_page(*site)}, port);
            } else if (const TcpInput* seed = first_seed(seeds, port)) {
              request = seed->messages.front();
            }
            if (!request.empty()) (void)conn->send(request, deadline);
            // The first bytes of the answer, then the reset.
            auto first = sys::receive(conn->fd(), 1, std::min(left(deadline), milliseconds(1000)));
            std::size_t got = first && !first->timed_out ? first->data.size() : 0;
            conn->reset();
            note(o, fmt::format("reset after {} byte{} of the answer", got, got == 1 ? "" : "s"));
            return o;
          }};
}

Recipe nofile_recipe(std::shared_ptr<Discovery> d, std::vector<TcpInput> seeds, QuietRule rule) {
  return {.name = "auto/edge/nofile",
          .part = "edge",
          .body = [d, seeds, rule](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            auto pids = sys::cgroup_processes(t.cgroup_dir());
            if (!pids) {
              note(o, "no processes: " + pids.error().message);
              return o;
            }
            std::map<pid_t, sys::Limit> saved;
            for (pid_t pid : *pids) {
              auto limit = sys::nofile_limit(pid);
              auto free = sys::lowest_free_descriptor(pid);
              if (!limit || !free) continue;  // gone meanwhile
              sys::Limit lowered{.soft = std::min(*free, limit->hard), .hard = limit->hard};
              if (sys::set_nofile_limit(pid, lowered)) saved[pid] = *limit;
            }
            note(o, fmt::format("{} processes at their open-file limit", saved.size()));
            note(o, drive_services(t, *d, seeds, deadline));
            (void)wait_quiescent(t, rule, deadline);
            for (const auto& [pid, limit] : saved) (void)sys::set_nofile_limit(pid, limit);
            return o;
          }};
}

Recipe enospc_recipe(std::shared_ptr<Discovery> d, std::vector<TcpInput> seeds, QuietRule rule) {
  return {.name = "auto/edge/enospc",
          .part = "edge",
          .body = [d, seeds, rule](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            const std::string layer = t.writable_layer();
            auto before = sys::fs_usage(layer);
            if (!before) {
              note(o, "the writable layer cannot be read: " + before.error().message);
              return o;
            }
            // A page of its own beside upper/ and work/ (the container does
            // not see it): the limit is never 0, which tmpfs reads as none.
            const std::string fill = layer + "/.sandmine-full";
            std::ofstream(fill) << std::string(4096, '\0');
            bool full = false;
            for (int attempt = 0; attempt < 5 && !full; ++attempt) {
              auto now = sys::fs_usage(layer);
              full = now && sys::resize_tmpfs(layer, now->used).ok();  // fails when it grew meanwhile
            }
            if (!full) {
              std::filesystem::remove(fill);
              note(o, "the writable layer could not be made full");
              return o;
            }
            note(o, "the writable layer is full");
            note(o, drive_services(t, *d, seeds, deadline));
            (void)wait_quiescent(t, rule, deadline);
            if (auto st = sys::resize_tmpfs(layer, before->size); !st) {
              o.ok = false;
              o.failure = "the writable layer could not be given its size back: " + st.error().message;
            }
            std::filesystem::remove(fill);
            return o;
          }};
}

}  // namespace sandmine::explore::generate
