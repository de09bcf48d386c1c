#include "crypto/megolm_inbound.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "crypto/base64.h"
#include "tests/unit/crypto/olm_test_util.h"

namespace haven::crypto::olm {
namespace {

using test::flip_byte_from_end;
using test::truncated;
namespace v = vectors;

InboundGroupSession session_at(std::string_view session_key) {
  auto session = InboundGroupSession::from_session_key(session_key);
  BOOST_REQUIRE(session.has_value());
  return std::move(*session);
}

void check_decrypts(const InboundGroupSession& session, const v::MegolmVector& vector) {
  const auto decrypted = session.decrypt(vector.body);
  BOOST_REQUIRE_MESSAGE(decrypted.has_value(), "message " << vector.index << " does not decrypt");
  BOOST_TEST(decrypted->plaintext == vector.plaintext);
  BOOST_TEST(decrypted->message_index == vector.index);
}

BOOST_AUTO_TEST_SUITE(megolm_inbound_suite)

BOOST_AUTO_TEST_CASE(decrypts_every_message_of_libolm) {
  const InboundGroupSession session = session_at(v::kMegolmSessionKeyAt0);
  BOOST_TEST(session.session_id() == v::kMegolmSessionId);
  BOOST_TEST(session.first_known_index() == 0u);
  for (const auto& vector : v::kMegolmMessages) check_decrypts(session, vector);
}

BOOST_AUTO_TEST_CASE(decrypts_out_of_order_and_repeatedly) {
  const InboundGroupSession session = session_at(v::kMegolmSessionKeyAt0);
  for (size_t i = std::size(v::kMegolmMessages); i-- > 0;) {
    check_decrypts(session, v::kMegolmMessages[i]);
  }
  check_decrypts(session, v::kMegolmMessages[3]);
  check_decrypts(session, v::kMegolmMessages[3]);
}

BOOST_AUTO_TEST_CASE(refuses_messages_before_the_first_known_index) {
  const InboundGroupSession session = session_at(v::kMegolmSessionKeyAt2);
  BOOST_TEST(session.session_id() == v::kMegolmSessionId);
  BOOST_TEST(session.first_known_index() == 2u);
  for (const auto& vector : v::kMegolmMessages) {
    if (vector.index < 2) {
      BOOST_TEST(!session.decrypt(vector.body).has_value(), "message " << vector.index);
    } else {
      check_decrypts(session, vector);
    }
  }
}

BOOST_AUTO_TEST_CASE(refuses_damaged_session_keys) {
  const std::string_view key = v::kMegolmSessionKeyAt0;
  BOOST_TEST(!InboundGroupSession::from_session_key(flip_byte_from_end(key, 0)));    // signature
  BOOST_TEST(!InboundGroupSession::from_session_key(flip_byte_from_end(key, 64)));   // Ed25519 key
  BOOST_TEST(!InboundGroupSession::from_session_key(flip_byte_from_end(key, 100)));  // ratchet
  BOOST_TEST(!InboundGroupSession::from_session_key(truncated(key, 1)));
  BOOST_TEST(!InboundGroupSession::from_session_key(std::string(key) + "AAAA"));
  BOOST_TEST(!InboundGroupSession::from_session_key("not base64!"));
  BOOST_TEST(!InboundGroupSession::from_session_key(""));
  auto raw = base64_decode(key);
  BOOST_REQUIRE(raw.has_value());
  (*raw)[0] = 1;  // the unsigned export format is not a session_key
  BOOST_TEST(!InboundGroupSession::from_session_key(base64_encode(*raw)));
}

BOOST_AUTO_TEST_CASE(refuses_damaged_and_foreign_messages) {
  const InboundGroupSession session = session_at(v::kMegolmSessionKeyAt0);
  const std::string_view body = v::kMegolmMessages[1].body;
  const std::string bad[] = {
      flip_byte_from_end(body, 0),   // the signature
      flip_byte_from_end(body, 64),  // the MAC
      flip_byte_from_end(body, 75),  // the ciphertext
      truncated(body, 1),
      truncated(body, 72),
      "AwgB",
      "*not base64*",
      "",
      std::string(v::kOtherMegolmMessage),
  };
  for (const std::string& message : bad) {
    BOOST_TEST(!session.decrypt(message).has_value(), message);
  }
  check_decrypts(session, v::kMegolmMessages[1]);
}

BOOST_AUTO_TEST_CASE(serialized_session_keeps_decrypting) {
  const InboundGroupSession original = session_at(v::kMegolmSessionKeyAt2);
  const std::string bytes = original.serialize();
  const auto restored = InboundGroupSession::deserialize(bytes);
  BOOST_REQUIRE(restored.has_value());
  BOOST_TEST(restored->session_id() == v::kMegolmSessionId);
  BOOST_TEST(restored->first_known_index() == 2u);
  for (const auto& vector : v::kMegolmMessages) {
    if (vector.index >= 2) check_decrypts(*restored, vector);
  }
  BOOST_TEST(!restored->decrypt(v::kMegolmMessages[0].body).has_value());
  BOOST_TEST(!InboundGroupSession::deserialize(bytes.substr(1)).has_value());
  test::check_refuses_damaged<InboundGroupSession>(bytes);
}

BOOST_AUTO_TEST_CASE(ratchet_jumps_equal_single_steps) {
  auto stepped = MegolmRatchet::from_bytes(std::string(MegolmRatchet::kLength, '\x5a'), 0);
  BOOST_REQUIRE(stepped.has_value());
  MegolmRatchet jumped = *stepped;
  for (uint32_t index = 1; index <= 65793; ++index) {  // past 2^16 + 2^8 + 1
    stepped->advance_to(index);
    if (index == 255 || index == 256 || index == 65536 || index == 65793) {
      MegolmRatchet direct = jumped;
      direct.advance_to(index);
      BOOST_TEST(direct.view() == stepped->view(), "index " << index);
      BOOST_TEST(direct.index() == index);
    }
  }
  jumped.advance_to(300);
  jumped.advance_to(65793);
  BOOST_TEST(jumped.view() == stepped->view());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto::olm
