// What a guest's access token may reach (R17): the one conversation of their guest link and the
// account plumbing a Matrix client needs to take part in it (sync, keys, to-device, media,
// calls, their own profile and settings). Pure function of the request path; any thread.
#pragma once

#include <string_view>

namespace haven::client {

// True when a guest bound to `room_id` may call `path` (the raw, percent-encoded request path).
bool guest_may_request(std::string_view path, std::string_view user_id, std::string_view room_id);

}  // namespace haven::client
