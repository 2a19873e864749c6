#include "worker/credit_policy.h"

#include <algorithm>

namespace botmodels {

std::optional<uint32_t> CreditPolicy::OnForward(Clock::duration elapsed, size_t requests) {
  if (!adapts_ || requests == 0) return std::nullopt;
  elapsed_ += elapsed;
  requests_ += requests;
  if (++forwards_ < kForwardsPerLook) return std::nullopt;
  const auto per_request = std::max<Clock::duration>(elapsed_ / requests_, Clock::duration(1));
  forwards_ = 0;
  requests_ = 0;
  elapsed_ = {};
  // 1 + ceil(kRoundTrip / per_request), in integers that cannot overflow:
  // the quotient is capped before the +1.
  const auto trips = (Clock::duration(kRoundTrip) + per_request - Clock::duration(1)) / per_request;
  const uint32_t target = static_cast<uint32_t>(
      std::clamp<int64_t>(1 + std::min<int64_t>(trips, kMaxCredit), kMinCredit, kMaxCredit));
  const uint32_t change = target > credit_ ? target - credit_ : credit_ - target;
  if (change == 0 || change * 4 < credit_) return std::nullopt;
  credit_ = target;
  return credit_;
}

}  // namespace botmodels
