#include "storage/sealed.h"

#include "crypto/secretbox.h"
#include "storage/keys.h"

namespace haven::storage {

namespace {

std::string associated_data(std::string_view scope, std::string_view record_key) {
  return KeyBuilder().str(scope).tail(record_key).take();
}

}  // namespace

std::optional<std::string> seal(WriteTxn& txn, std::string_view scope, std::string_view record_key,
                                std::string_view plaintext, Status* status) {
  auto key = txn.at_rest_key_for_write(scope, status);
  if (!key) return std::nullopt;
  return crypto::secretbox_seal(key->bytes(), plaintext, associated_data(scope, record_key));
}

std::optional<std::string> open_sealed(ReadTxn& txn, std::string_view scope,
                                       std::string_view record_key, std::string_view sealed) {
  auto key = txn.at_rest_key(scope);
  if (!key) return std::nullopt;
  return crypto::secretbox_open(key->bytes(), sealed, associated_data(scope, record_key));
}

}  // namespace haven::storage
