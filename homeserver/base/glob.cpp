#include "homeserver/base/glob.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace haven {

namespace {

// UTF-8 to code points; a byte that does not start a valid sequence stands for itself, so
// matching never fails on bad input (stored events are valid UTF-8 anyway).
std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len <= 1 || i + len > s.size()) {
      out.push_back(b);
      ++i;
      continue;
    }
    uint32_t cp = b & (0xFF >> (len + 1));
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {
      out.push_back(b);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Case folding for the scripts most display names and messages use: ASCII, Latin-1, Latin
// Extended-A, Greek and Cyrillic capitals. The spec leaves "case-insensitive" to the server.
uint32_t fold(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

bool is_word(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Token {
  enum Type { kChar, kOne, kMany } type;
  uint32_t cp;
};

std::vector<Token> tokenize(std::string_view pattern, bool literal) {
  std::vector<Token> out;
  for (uint32_t c : code_points(pattern)) {
    if (!literal && c == '*') {
      // Runs of '*' mean the same as one.
      if (out.empty() || out.back().type != Token::kMany) out.push_back({Token::kMany, 0});
    } else if (!literal && c == '?') {
      out.push_back({Token::kOne, 0});
    } else {
      out.push_back({Token::kChar, fold(c)});
    }
  }
  return out;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view value, bool word_boundary,
                bool literal) {
  std::vector<Token> tokens = tokenize(pattern, literal);
  std::vector<uint32_t> text = code_points(value);
  const size_t m = tokens.size(), n = text.size();
  // A simulation of the pattern's automaton: state j means "the first j tokens matched".
  // In word-boundary mode a new attempt starts at every boundary, all in one pass: O(n*m).
  std::vector<uint8_t> cur(m + 1, 0), next(m + 1, 0);
  for (size_t i = 0;; ++i) {
    bool start_here = word_boundary ? (i == 0 || !is_word(text[i - 1])) : i == 0;
    if (start_here) cur[0] = 1;
    for (size_t j = 0; j < m; ++j) {
      if (cur[j] && tokens[j].type == Token::kMany) cur[j + 1] = 1;
    }
    bool end_here = word_boundary ? (i == n || !is_word(text[i])) : i == n;
    if (cur[m] && end_here) return true;
    if (i == n) return false;
    if (!word_boundary && std::find(cur.begin(), cur.end(), 1) == cur.end()) return false;
    std::fill(next.begin(), next.end(), 0);
    uint32_t c = fold(text[i]);
    for (size_t j = 0; j < m; ++j) {
      if (!cur[j]) continue;
      switch (tokens[j].type) {
        case Token::kMany:
          next[j] = 1;
          break;
        case Token::kOne:
          next[j + 1] = 1;
          break;
        case Token::kChar:
          if (tokens[j].cp == c) next[j + 1] = 1;
          break;
      }
    }
    std::swap(cur, next);
  }
}

}  // namespace haven
