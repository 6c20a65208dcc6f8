#include "rules/window/hyperloglog.h"

#include <cmath>
#include <limits>

namespace corridor::rules::window::detail {
namespace {

// sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1)
double sigma(double x) noexcept {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0, z = x, previous;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

// tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3
double tau(double x) noexcept {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, previous;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != previous);
  return z / 3.0;
}

}  // namespace

double hll_estimate(const uint32_t (&histogram)[kHllQ + 2]) noexcept {
  const double m = kHllM;
  double z = m * tau(1.0 - histogram[kHllQ + 1] / m);
  for (int k = kHllQ; k >= 1; --k) {
    z += histogram[k];
    z *= 0.5;
  }
  z += m * sigma(histogram[0] / m);
  constexpr double kAlphaInf = 0.5 / 0.69314718055994530942;  // 1 / (2 ln 2)
  return kAlphaInf * m * m / z;  // z is +inf when every register is empty: 0
}

}  // namespace corridor::rules::window::detail
