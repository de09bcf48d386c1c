#include "federation/dns_srv.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

namespace haven::federation {

std::vector<SrvRecord> SystemDns::lookup_srv(const std::string& name) {
  std::vector<SrvRecord> out;
  unsigned char answer[NS_PACKETSZ * 4];
  const int length = res_query(name.c_str(), ns_c_in, ns_t_srv, answer, sizeof answer);
  if (length <= 0) return out;  // NXDOMAIN, no records or no answer: all "no SRV record"
  ns_msg message;
  if (ns_initparse(answer, length, &message) != 0) return out;
  const int count = ns_msg_count(message, ns_s_an);
  for (int i = 0; i < count && out.size() < 64; ++i) {
    ns_rr rr;
    if (ns_parserr(&message, ns_s_an, i, &rr) != 0) break;
    if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
    const unsigned char* data = ns_rr_rdata(rr);
    SrvRecord record;
    record.priority = ns_get16(data);
    record.weight = ns_get16(data + 2);
    record.port = ns_get16(data + 4);
    char target[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(message), ns_msg_end(message), data + 6, target, sizeof target) < 0) {
      continue;
    }
    record.target = target;
    if (!record.target.empty() && record.target.back() == '.') record.target.pop_back();
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace haven::federation
