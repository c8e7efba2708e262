#include "explore/generate/health.h"

#include "sys/command.h"

namespace sandmine::explore::generate {

std::vector<std::string> health_check_command(const nlohmann::json& test) {
  if (!test.is_array() || test.empty() || !test[0].is_string()) return {};
  std::vector<std::string> words;
  for (const auto& w : test) {
    if (!w.is_string()) return {};
    words.push_back(w.get<std::string>());
  }
  if (words[0] == "CMD") return {words.begin() + 1, words.end()};
  if (words[0] == "CMD-SHELL" && words.size() == 2) return {"/bin/sh", "-c", words[1]};
  return {};
}

std::vector<std::string> health_check_in(const nlohmann::json& inspected) {
  const nlohmann::json& image = inspected.is_array() && !inspected.empty() ? inspected[0] : inspected;
  if (!image.is_object()) return {};
  // The Test list of object[key], when there is one.
  auto test_of = [](const nlohmann::json& object, const char* key) {
    if (!object.is_object() || !object.contains(key) || !object[key].is_object()) return nlohmann::json();
    return object[key].value("Test", nlohmann::json());
  };
  for (const char* config : {"Config", "config"})
    if (image.contains(config))
      if (auto cmd = health_check_command(test_of(image[config], "Healthcheck")); !cmd.empty()) return cmd;
  return health_check_command(test_of(image, "HealthCheck"));
}

Result<std::vector<std::string>> image_health_check(const std::string& client, const std::string& ref) {
  auto r = sys::run_command({client, "image", "inspect", ref}, {.timeout = std::chrono::seconds(30)});
  if (!r) return r.error();
  if (r->exit_code != 0) return Error{client + " image inspect " + ref + " failed: " + r->last_line()};
  auto doc = nlohmann::json::parse(r->output, nullptr, false);
  if (doc.is_discarded()) return Error{client + " image inspect " + ref + " gave no JSON", EPROTO};
  return health_check_in(doc);
}

}  // namespace sandmine::explore::generate
