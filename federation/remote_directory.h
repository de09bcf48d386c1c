// rooms::RemoteDirectory over federation: GET/POST /_matrix/federation/v1/publicRooms of another
// server through the FederationClient. Built once by `haven serve`; loop thread only.
#pragma once

#include "conf/config.h"
#include "federation/client.h"
#include "homeserver/rooms/remote_directory.h"

namespace haven::federation {

class RemoteDirectory : public rooms::RemoteDirectory {
 public:
  RemoteDirectory(const conf::Config& config, FederationClient& client)
      : config_(config), client_(client) {}

  void public_rooms(const std::string& server, const rooms::PublicRoomsQuery& query,
                    bool with_filter, std::function<void(Result<json::Document>)> done) override;

 private:
  const conf::Config& config_;
  FederationClient& client_;
};

}  // namespace haven::federation
