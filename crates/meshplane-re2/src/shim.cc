// Compiles a pattern the way Envoy's Google RE2 matcher does (RE2::Quiet
// options: UTF-8, no logging) and reports the outcome to Rust.
#include <re2/re2.h>

#include <cstddef>
#include <cstring>
#include <string>

extern "C" int meshplane_re2_compile(const char* pattern, size_t pattern_len,
                                     int* program_size, char* error,
                                     size_t error_cap) {
  re2::RE2 re(re2::StringPiece(pattern, pattern_len), re2::RE2::Quiet);
  if (!re.ok()) {
    const std::string& message = re.error();
    size_t n = message.size() < error_cap ? message.size() : error_cap;
    std::memcpy(error, message.data(), n);
    *program_size = static_cast<int>(n);
    return 0;
  }
  *program_size = re.ProgramSize();
  return 1;
}
