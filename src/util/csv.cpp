#include "util/csv.h"

namespace sandmine {

namespace {

// Splits one record starting at pos; advances pos past its line end.
Result<std::vector<std::string>> next_record(std::string_view text, size_t& pos, const std::string& where) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  while (pos < text.size()) {
    char c = text[pos++];
    if (quoted) {
      if (c == '"' && pos < text.size() && text[pos] == '"') {
        fields.back() += '"';
        ++pos;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      return fields;
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) return Error{where + ": unterminated quoted field", EINVAL};
  return fields;
}

}  // namespace

Result<std::vector<CsvRow>> parse_csv(std::string_view text, const std::string& source) {
  size_t pos = 0;
  auto header = next_record(text, pos, source + ":1");
  if (!header) return header.error();
  std::vector<CsvRow> rows;
  for (int line = 2; pos < text.size(); ++line) {
    std::string where = source + ":" + std::to_string(line);
    auto fields = next_record(text, pos, where);
    if (!fields) return fields.error();
    if (fields->size() == 1 && fields->front().empty()) continue;  // blank line
    if (fields->size() != header->size())
      return Error{where + ": " + std::to_string(fields->size()) + " fields, the header has " +
                       std::to_string(header->size()),
                   EINVAL};
    CsvRow row;
    for (size_t i = 0; i < fields->size(); ++i) row[(*header)[i]] = (*fields)[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace sandmine
