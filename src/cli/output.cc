#include "cli/output.h"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

namespace openlab::cli {

void PrintJson(const boost::json::value& v) { std::cout << boost::json::serialize(v) << "\n"; }

std::string HumanNumber(double v) {
  if (!std::isfinite(v)) return fmt::format("{}", v);
  double a = std::fabs(v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  int decimals = a >= 1 ? 2 : 1 - static_cast<int>(std::floor(std::log10(a)));
  if (a == 0) decimals = 0;
  std::string s = fmt::format("{:.{}f}", v, std::min(decimals, 15));
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

}  // namespace openlab::cli
