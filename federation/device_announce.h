// Telling other servers about a local user's devices: compares the user's devices, device
// keys and cross-signing keys with what was last announced (kFedDevicesAnnounced) and queues
// an m.device_list_update EDU per changed or deleted device (stream_id counting up per user,
// prev_id naming the previous update) and an m.signing_key_update EDU when the master or
// self-signing key changed, for every server sharing a room with the user. Also answers
// GET /user/devices from the same record. Writer thread (inside a Store job) for the queueing;
// reads any thread.
#pragma once

#include <cstdint>
#include <string>

#include "homeserver/base/json.h"
#include "homeserver/rooms/outbound.h"
#include "storage/store.h"

namespace haven::federation {

storage::Status queue_device_list_updates(storage::WriteTxn& txn, const rooms::Outbound& outbound,
                                          const std::string& own_server,
                                          const std::string& user_id);

// The stream_id of the last device list update announced for the local user (0: none yet).
uint64_t announced_stream_id(storage::ReadTxn& txn, const std::string& user_id);

}  // namespace haven::federation
