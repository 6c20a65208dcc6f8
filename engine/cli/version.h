#pragma once

#include <string_view>

namespace corridor::cli {
std::string_view version() noexcept;
std::string_view git_commit() noexcept;
}  // namespace corridor::cli
