// Glob matching as Matrix uses it (push rule patterns, server ACLs): `*` any run of characters,
// `?` exactly one, compared case-insensitively by code point. Any thread.
#pragma once

#include <string_view>

namespace haven {

// True when `pattern` matches the whole `value`. With `word_boundary`, the pattern may match any
// substring that starts and ends at a word boundary (push rules on content.body). With
// `literal`, `*` and `?` are ordinary characters (display names). O(pattern x value).
bool glob_match(std::string_view pattern, std::string_view value, bool word_boundary = false,
                bool literal = false);

}  // namespace haven
