// The report in a real browser: headless Chromium loads a synthetic run's report,
// and its DOM dump must show, on every chart, as many rendered data marks (nonzero
// size, measured by the report's own script with getBBox) as the chart has; then a
// screenshot is kept in <build>/test-artifacts/report.png for people to look at.
// Chromium is a required test dependency (scripts/setup.sh installs it): without it
// the test fails rather than skipping.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "report/report.h"
#include "report/synthetic_run.h"
#include "test_util.h"
#include "util/file.h"

namespace haq {
namespace {

namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";

// Runs chromium headless on `page` with `args`, stdout to `out`, under a timeout.
int Chromium(const fs::path& page, const std::string& args, const fs::path& out,
             const fs::path& profile) {
  const std::string cmd = fmt::format(
      "timeout 120 {} --headless=new --no-sandbox --disable-gpu --no-first-run "
      "--user-data-dir='{}' {} 'file://{}' >'{}' 2>'{}.log'",
      kChromium, profile.string(), args, fs::absolute(page).string(), out.string(), out.string());
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// id -> number of data marks, from the report as written.
std::map<std::string, int> MarkCounts(const std::string& html) {
  static const std::regex svg_open(R"re(<svg class="chart" id="([^"]+)")re");
  std::map<std::string, int> counts;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), svg_open); it != std::sregex_iterator(); ++it) {
    const size_t begin = static_cast<size_t>(it->position());
    const std::string body = html.substr(begin, html.find("</svg>", begin) - begin);
    int n = 0;
    for (size_t at = body.find("class=\"mark"); at != std::string::npos; at = body.find("class=\"mark", at + 1)) ++n;
    counts[(*it)[1]] = n;
  }
  return counts;
}

TEST(ReportBrowserTest, ChromiumRendersEveryMarkOfEveryChart) {
  if (!fs::exists(kChromium)) {
    FAIL() << kChromium << " not found: the report's browser test needs Chromium; run "
           << "scripts/setup.sh (as root) to install it";
  }
  const fs::path artifacts = fs::path(HAQ_BINARY).parent_path() / "test-artifacts";
  fs::create_directories(artifacts);
  test::TempDir tmp;
  test::SyntheticRunOptions o;  // mobilenet_v1 on bitfusion, every chart present
  o.episodes_logged = o.episodes_committed = o.episodes_planned = 60;
  o.budget = "latency=0.8";  // within reach of the wall: a spread of costs
  o.planned = "ilp";         // and the sensitivity chart
  test::WriteSyntheticRun(tmp / "run", o);
  const std::string html = report::RenderHtml(report::LoadRun(tmp / "run"));
  const fs::path page = artifacts / "report.html";
  util::WriteFileAtomic(page, html);

  const auto expected = MarkCounts(html);
  ASSERT_EQ(expected.size(), 6u);  // bits, latency, energy, sensitivity, curve, pareto
  const fs::path dom = tmp / "dom.html";
  ASSERT_EQ(Chromium(page, "--dump-dom", dom, tmp / "profile"), 0) << util::ReadFile(dom.string() + ".log");
  const std::string dumped = util::ReadFile(dom);
  for (const auto& [id, count] : expected) {
    SCOPED_TRACE(id);
    EXPECT_GT(count, 0);
    const std::regex rendered(fmt::format(R"re(<svg[^>]*id="{}"[^>]*data-rendered="(\d+)")re", id));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(dumped, m, rendered)) << "no data-rendered on " << id;
    EXPECT_EQ(std::stoi(m[1]), count);
  }

  const fs::path png = artifacts / "report.png";
  fs::remove(png);
  ASSERT_EQ(Chromium(page, fmt::format("--screenshot='{}' --window-size=1280,4000", png.string()),
                     tmp / "shot.txt", tmp / "profile"),
            0)
      << util::ReadFile(tmp / "shot.txt.log");
  ASSERT_TRUE(fs::exists(png));
  const std::string bytes = util::ReadFile(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  // IHDR: big-endian width and height at bytes 16..23.
  auto be32 = [&bytes](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(bytes[at + k]);
    return v;
  };
  EXPECT_EQ(be32(16), 1280u);
  EXPECT_EQ(be32(20), 4000u);
  EXPECT_GT(bytes.size(), 100000u) << "a near-empty screenshot";
}

}  // namespace
}  // namespace haq
