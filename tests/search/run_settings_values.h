#pragma once
// Alternative values of run parameters, for the table-driven tests
// (run_settings_test.cc, run_test.cc).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "search/run_settings.h"

namespace haq::search {

// A value of `p` other than its value in `s`, valid for it.
inline nlohmann::json OtherValue(const RunParam& p, const RunSettings& s) {
  const nlohmann::json v = p.Get(s);
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_string()) {
    for (const std::string& a : p.allowed) {
      if (a != v.get<std::string>()) return a;
    }
    // Free strings: a valid alternative each.
    static const std::map<std::string, std::string> free = {{"model", "resnet20_fmnist"},
                                                            {"hardware", "bitfusion"},
                                                            {"budget", "energy=0.5"},
                                                            {"data_dir", "/data/fmnist"},
                                                            {"classes", "5"},
                                                            {"image_cache", "/tmp/haq-cache"},
                                                            {"mean", "0.5"},
                                                            {"std", "0.25"},
                                                            {"listen", "127.0.0.1:29511"}};
    const auto it = free.find(p.key);
    if (it == free.end()) {
      ADD_FAILURE() << "run parameter '" << p.key << "' needs an alternative value in OtherValue";
      return v;
    }
    return it->second;
  }
  if (v.is_number_unsigned() && std::holds_alternative<uint64_t RunSettings::*>(p.member)) {
    return v.get<uint64_t>() + 1;
  }
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    return static_cast<double>(x + 1) <= p.max ? x + 1 : x - 1;
  }
  const double x = v.get<double>();
  return x * 0.5 >= p.min ? x * 0.5 : x * 2.0;
}

}  // namespace haq::search
