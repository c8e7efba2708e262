#!/bin/sh
# Checks that the C++ sources in src/ cli/ tests/ bench/ fuzz/ are formatted
# as the checked-in .clang-format says (tests/programs/ is C with a style of
# its own, and is left out). Lists each file that is not and exits 1; fix one
# with: clang-format -i FILE.
set -eu
cd "$(dirname "$0")/.."
if ! command -v clang-format > /dev/null 2>&1; then
  echo "check-format.sh: clang-format is not installed (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
checked=0
unformatted=0
for f in $(find src cli tests bench fuzz \( -name '*.cpp' -o -name '*.h' \) -not -path 'tests/programs/*' | sort); do
  checked=$((checked + 1))
  if ! clang-format --style=file --dry-run --Werror "$f" > /dev/null 2>&1; then
    echo "not formatted: $f"
    unformatted=$((unformatted + 1))
  fi
done
if [ "$unformatted" -gt 0 ]; then
  echo "check-format.sh: $unformatted of $checked files are not formatted as .clang-format says (clang-format -i FILE)" >&2
  exit 1
fi
echo "check-format.sh: $checked files formatted as .clang-format says"
