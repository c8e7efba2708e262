#pragma once
// reach.json (docs/formats.md): a ReachReport as JSON.

#include <nlohmann/json_fwd.hpp>

#include "reach/analysis.h"

namespace sandmine::reach {

/// The document `sandmine reach` writes. image: the trace's image id;
/// safe: reachable_safe() of the report against the seen set.
nlohmann::json to_json(const ReachReport& report, const std::string& image);

}  // namespace sandmine::reach
