#pragma once
// The CSV the data/ tables use: a header row, comma-separated fields, fields
// with commas or quotes in double quotes ("" for a quote).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace sandmine {

/// One row: column name (from the header) -> field.
using CsvRow = std::map<std::string, std::string>;

/// Parses text; every row must have as many fields as the header. source names
/// the table in errors ("data/x.csv:4: ...").
Result<std::vector<CsvRow>> parse_csv(std::string_view text, const std::string& source);

}  // namespace sandmine
