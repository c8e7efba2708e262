// report.html in a real browser: busybox-httpd mined with runc, its report
// opened by headless Chromium. The DOM Chromium builds holds every chart
// with one mark per step, the marks get laid out with a size, and the
// screenshot has the charts' colours in it.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <regex>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kPython = "/usr/bin/python3";

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
    if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
    if (!fs::exists(kChromium))
      SKIP_OR_FAIL_IN_CI("chromium is not installed (scripts/install-deps.sh installs it)");
  }
  void TearDown() override {
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
      EXPECT_EQ(runc_leftovers(), std::vector<std::string>{});
    }
  }
  // Headless Chromium on a local file, with its own profile folder (tests run in parallel).
  Outcome chromium(const std::vector<std::string>& flags, const std::string& file) {
    std::vector<std::string> argv{
        "/usr/bin/timeout", "120",           kChromium,           "--headless",
        "--no-sandbox",     "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + browser_.path()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("file://" + file);
    return run(argv);
  }
  TempDir cache_, browser_;
};

// The markup of one chart in a DOM dump.
std::string chart(const std::string& dom, const std::string& name) {
  auto start = dom.find("<svg data-chart=\"" + name + "\"");
  if (start == std::string::npos) return "";
  return dom.substr(start, dom.find("</svg>", start) + 6 - start);
}

std::size_t count(const std::string& text, const std::string& pattern) {
  std::regex re(pattern);
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

std::size_t polyline_points(const std::string& svg) {
  std::smatch m;
  if (!std::regex_search(svg, m, std::regex(R"(<polyline class="curve" points="([^"]*)\")"))) return 0;
  return count(m[1].str(), R"([0-9.]+,[0-9.]+)");
}

// Appended to a copy of the report (the report itself has no script): after
// layout, one line per chart with how many of its marks got a box of
// positive size inside the chart, and the curve's length.
constexpr const char* kLayoutProbe = R"(<script>
const out = document.createElement('pre');
out.id = 'layout';
for (const svg of document.querySelectorAll('svg[data-chart]')) {
  const box = svg.getBoundingClientRect();
  let sized = 0, inside = 0;
  for (const mark of svg.querySelectorAll('.bar, .point')) {
    const b = mark.getBoundingClientRect();
    if (b.width > 0 && b.height > 0) ++sized;
    if (b.left >= box.left - 1 && b.right <= box.right + 1 && b.top >= box.top - 1 && b.bottom <= box.bottom + 1) ++inside;
  }
  const curve = svg.querySelector('.curve');
  out.textContent += svg.dataset.chart + ' ' + Math.round(box.width) + 'x' + Math.round(box.height) + ' sized=' +
      sized + ' inside=' + inside + ' curve=' + (curve ? Math.round(curve.getTotalLength()) : 0) + '\n';
}
document.body.appendChild(out);
</script>)";

// Decodes an 8-bit RGB/RGBA PNG (the zlib stream and the five row filters)
// and prints its width, height, the number of distinct colours and the
// number of pixels of each colour given as an argument (rrggbb).
constexpr const char* kPngColours = R"(
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
assert depth == 8 and ctype in (2, 6), 'unexpected PNG type'
bpp = 3 if ctype == 2 else 4
raw, stride, prev, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), 0
counts = {}
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    if f == 2:
        line = bytearray((x + b) & 255 for x, b in zip(line, prev))
    elif f in (1, 3, 4):
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        key = bytes(line[x:x + 3]).hex()
        counts[key] = counts.get(key, 0) + 1
    prev = line
print(w, h, len(counts), *[counts.get(c, 0) for c in sys.argv[2:]])
)";

TEST_F(Report, ChromiumDrawsEveryChartWithOneMarkPerStep) {
  TempDir dir;
  Outcome mined = sandmine({"mine", std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml", "-o", dir.path(),
                            "--cache", cache_.path()});
  ASSERT_EQ(mined.exit_code, 0) << mined.err;
  // bench.json as `sandmine bench` writes it; the report renders what is there.
  write_text(dir.file("bench.json"),
             R"({"spec": "busybox-httpd", "engine": "runc", "rounds": 3, "unit": "requests/s",
                 "results": [{"config": "unconfined", "median": 1000, "ratio": 1.0},
                             {"config": "default", "median": 960, "ratio": 0.96},
                             {"config": "profile", "median": 975, "ratio": 0.975}]})");
  Outcome again = sandmine({"report", dir.path()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const std::string report = dir.file("report.html");
  const auto trace = read_json(dir.file("trace.json"));
  const std::size_t steps = trace["steps"].size();
  ASSERT_EQ(steps, httpd_example().explore.size() + 2);

  Outcome dom = chromium({"--dump-dom"}, report);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  std::string discovery = chart(dom.out, "discovery");
  ASSERT_FALSE(discovery.empty()) << dom.out.substr(0, 2000);
  EXPECT_EQ(polyline_points(discovery), steps);
  EXPECT_EQ(count(discovery, R"(<circle class="point")"), steps);
  EXPECT_EQ(count(chart(dom.out, "new-per-step"), R"(<rect class="bar[ "])"), steps);
  EXPECT_EQ(count(chart(dom.out, "profile-size"), R"(<rect class="bar[ "])"), 2u);
  EXPECT_EQ(count(chart(dom.out, "overhead"), R"(<rect class="bar[ "])"), 3u);
  EXPECT_NE(dom.out.find("<section id=\"check\">"), std::string::npos);
  EXPECT_NE(dom.out.find("<section id=\"coverage\">"), std::string::npos);

  // Layout: every point and every bar with a value gets a box inside its chart.
  std::string probe = dir.file("report-probe.html");
  std::string html = *sys::read_file(report);
  write_text(probe, html.insert(html.rfind("</body>"), kLayoutProbe));
  Outcome laid_out = chromium({"--dump-dom"}, probe);
  ASSERT_EQ(laid_out.exit_code, 0) << laid_out.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(laid_out.out, m, std::regex(R"(<pre id="layout">([^<]*)</pre>)")))
      << laid_out.out;
  std::string layout = m[1];
  std::size_t nonzero_steps = 0;
  for (const auto& s : trace["steps"]) nonzero_steps += !s["new_syscalls"].empty();
  auto expect_line = [&](const std::string& chart_name, std::size_t sized, std::size_t inside, bool curve) {
    std::smatch l;
    ASSERT_TRUE(std::regex_search(
        layout, l, std::regex(chart_name + R"( (\d+)x(\d+) sized=(\d+) inside=(\d+) curve=(\d+))")))
        << layout;
    EXPECT_GT(std::stoi(l[1]), 300) << layout;
    EXPECT_GT(std::stoi(l[2]), 100) << layout;
    EXPECT_EQ(std::stoul(l[3]), sized) << chart_name << "\n" << layout;
    EXPECT_EQ(std::stoul(l[4]), inside) << chart_name << "\n" << layout;
    EXPECT_EQ(std::stoi(l[5]) > 100, curve) << chart_name << "\n" << layout;
  };
  expect_line("discovery", steps, steps, true);
  expect_line("new-per-step", nonzero_steps, steps,
              false);  // a step that added nothing has a bar of height 0
  expect_line("profile-size", 2, 2, false);
  expect_line("overhead", 3, 3, false);

  // The screenshot: a real PNG with the bars' and the curve's colours in it.
  std::string png = dir.file("report.png");
  Outcome shot = chromium({"--screenshot=" + png, "--window-size=1000,2400"}, report);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  EXPECT_GT(fs::file_size(png), 20'000u) << "a page of charts and tables compresses to more than a blank one";
  if (!fs::exists(kPython)) SKIP_OR_FAIL_IN_CI("python3 is not installed: cannot decode the screenshot");
  // #3b6fb6: the profile's bars; #9aa5b1: Docker's; #c0392b: the discovery curve.
  Outcome colours = run({kPython, "-c", kPngColours, png, "3b6fb6", "9aa5b1", "c0392b"});
  ASSERT_EQ(colours.exit_code, 0) << colours.err;
  unsigned width = 0, height = 0, distinct = 0, bar = 0, baseline = 0, curve = 0;
  ASSERT_EQ(std::sscanf(colours.out.c_str(), "%u %u %u %u %u %u", &width, &height, &distinct, &bar, &baseline,
                        &curve),
            6)
      << colours.out;
  EXPECT_EQ(width, 1000u);
  EXPECT_EQ(height, 2400u);
  EXPECT_GT(distinct, 10u) << "text is anti-aliased: a drawn page has many colours";
  EXPECT_GT(bar, 2000u) << colours.out;
  EXPECT_GT(baseline, 2000u) << colours.out;
  EXPECT_GT(curve, 100u) << colours.out;
}

}  // namespace sandmine::test
