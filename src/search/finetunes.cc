#include "search/finetunes.h"

#include <fmt/format.h>

#include <sstream>

#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::search {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json RecordToJson(const FineTuneRecord& r) {
  json bits = json::array();
  for (const auto& [w, a] : r.bits) bits.push_back({w, a});
  return {{"key", r.key},         {"bits", bits},           {"seed", r.seed},
          {"reward_top1", r.reward_top1}, {"test_top1", r.test_top1}, {"seconds", r.seconds}};
}

double Percent(const json& j, const char* key, const std::string& where) {
  const auto v = util::JsonField<double>(j, key, where);
  if (!(v >= 0 && v <= 100)) {
    throw util::InputError(fmt::format("{}: {}: expected a percentage 0..100, got {}", where, key, v));
  }
  return v;
}

FineTuneRecord RecordFromJson(const json& j, const std::string& where) {
  FineTuneRecord r;
  r.key = util::JsonMember(j, "key", where);
  if (!r.key.is_object()) {
    throw util::InputError(fmt::format("{}: key: expected an object of run settings, got {}", where,
                                       r.key.dump()));
  }
  const json& bits = util::JsonMember(j, "bits", where);
  if (!bits.is_array() || bits.empty()) {
    throw util::InputError(fmt::format("{}: bits: expected a list of [w_bits, a_bits], got {}", where,
                                       bits.dump()));
  }
  for (size_t i = 0; i < bits.size(); ++i) {
    const json& p = bits[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number_integer()) {
      throw util::InputError(fmt::format("{}: bits[{}]: expected [w_bits, a_bits] integers, got {}",
                                         where, i, p.dump()));
    }
    r.bits.emplace_back(p[0].get<int>(), p[1].get<int>());
  }
  const auto seed = util::JsonField<int64_t>(j, "seed", where);
  if (seed < 0) throw util::InputError(fmt::format("{}: seed: expected a seed >= 0, got {}", where, seed));
  r.seed = static_cast<uint64_t>(seed);
  r.reward_top1 = Percent(j, "reward_top1", where);
  r.test_top1 = Percent(j, "test_top1", where);
  r.seconds = util::JsonField<double>(j, "seconds", where);
  return r;
}

bool Same(const FineTuneRecord& a, const FineTuneRecord& b) {
  return a.key == b.key && a.bits == b.bits && a.seed == b.seed;
}

}  // namespace

json FineTuneKey(const RunSettings& s) {
  json key = s.ToJson();
  for (const char* k : {"budget", "episodes", "restarts", "final_candidates", "final_seeds", "image_cache"}) {
    key.erase(k);
  }
  return key;
}

std::vector<std::pair<int, int>> PolicyBits(const hw::Policy& policy) {
  std::vector<std::pair<int, int>> out;
  for (const hw::LayerBits& l : policy.layers) out.emplace_back(l.w_bits, l.a_bits);
  return out;
}

FineTuneRecords::FineTuneRecords(fs::path file, json key) : file_(std::move(file)), key_(std::move(key)) {
  if (!fs::exists(file_)) return;
  std::istringstream in(util::ReadFile(file_));
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    const std::string where = fmt::format("{}:{}", file_.string(), n);
    records_.push_back(RecordFromJson(util::ParseJson(line, where), where));
  }
}

std::optional<FineTuneRecord> FineTuneRecords::Find(const hw::Policy& policy, uint64_t seed) const {
  FineTuneRecord want;
  want.key = key_;
  want.bits = PolicyBits(policy);
  want.seed = seed;
  for (const FineTuneRecord& r : records_) {
    if (Same(r, want)) return r;
  }
  return std::nullopt;
}

void FineTuneRecords::Add(FineTuneRecord r) {
  r.key = key_;
  records_.push_back(std::move(r));
  Write();
}

void FineTuneRecords::Merge(const FineTuneRecords& other) {
  bool added = false;
  for (const FineTuneRecord& r : other.records_) {
    bool have = false;
    for (const FineTuneRecord& mine : records_) have = have || Same(mine, r);
    if (!have) {
      records_.push_back(r);
      added = true;
    }
  }
  if (added) Write();
}

void FineTuneRecords::Write() const {
  util::WriteFileAtomic(file_, [&](std::ostream& out) {
    for (const FineTuneRecord& r : records_) out << RecordToJson(r).dump() << '\n';
  });
}

}  // namespace haq::search
