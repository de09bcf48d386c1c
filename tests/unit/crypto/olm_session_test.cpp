#include "crypto/olm_session.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "crypto/base64.h"
#include "crypto/olm_account.h"
#include "crypto/olm_message.h"
#include "tests/unit/crypto/olm_test_util.h"

namespace haven::crypto::olm {
namespace {

using test::flip_byte_from_end;
using test::truncated;
using test::vector_receiver;
namespace v = vectors;

constexpr int kPreKey = 0;
constexpr int kNormal = 1;

// The receiver's session made from `first` (a pre-key message of the vectors).
Session session_from(const v::OlmVector& first) {
  Account account = vector_receiver();
  auto created = account.create_inbound_session(v::kSenderCurve25519, first.body);
  BOOST_REQUIRE(created.has_value());
  BOOST_TEST(created->plaintext == first.plaintext);
  return std::move(created->session);
}

// The normal message inside a pre-key message, base64: what a type 1 body looks like.
std::string inner_message(std::string_view prekey_b64) {
  const auto raw = base64_decode(prekey_b64);
  BOOST_REQUIRE(raw.has_value());
  const auto prekey = parse_prekey_message(*raw);
  BOOST_REQUIRE(prekey.has_value());
  return base64_encode(prekey->message);
}

void check_decrypts(Session& session, const v::OlmVector& vector) {
  const auto plaintext = session.decrypt(kPreKey, vector.body);
  BOOST_REQUIRE_MESSAGE(plaintext.has_value(), "message " << vector.index << " does not decrypt");
  BOOST_TEST(*plaintext == vector.plaintext);
}

BOOST_AUTO_TEST_SUITE(olm_session_suite)

BOOST_AUTO_TEST_CASE(decrypts_every_message_in_order) {
  Session session = session_from(v::kOneTimeSession[0]);
  BOOST_TEST(session.session_id() == v::kOneTimeSessionId);
  for (size_t i = 1; i < std::size(v::kOneTimeSession); ++i) {
    check_decrypts(session, v::kOneTimeSession[i]);
  }
  Session fallback = session_from(v::kFallbackSession[0]);
  check_decrypts(fallback, v::kFallbackSession[1]);
}

BOOST_AUTO_TEST_CASE(decrypts_out_of_order_once_each) {
  Session session = session_from(v::kOneTimeSession[3]);
  for (const size_t i : {1, 4, 0, 2}) check_decrypts(session, v::kOneTimeSession[i]);
  for (const auto& vector : v::kOneTimeSession) {
    BOOST_TEST(!session.decrypt(kPreKey, vector.body).has_value(), "replay of " << vector.index);
  }
}

BOOST_AUTO_TEST_CASE(decrypts_a_normal_message_on_the_same_chain) {
  Session session = session_from(v::kOneTimeSession[0]);
  const auto plaintext = session.decrypt(kNormal, inner_message(v::kOneTimeSession[2].body));
  BOOST_REQUIRE(plaintext.has_value());
  BOOST_TEST(*plaintext == v::kOneTimeSession[2].plaintext);
  BOOST_TEST(!session.decrypt(kNormal, inner_message(v::kOneTimeSession[2].body)).has_value());
  // A pre-key message is not a normal message, nor the other way round.
  BOOST_TEST(!session.decrypt(kNormal, v::kOneTimeSession[3].body).has_value());
  BOOST_TEST(!session.decrypt(kPreKey, inner_message(v::kOneTimeSession[3].body)).has_value());
  check_decrypts(session, v::kOneTimeSession[1]);
}

BOOST_AUTO_TEST_CASE(matches_only_its_own_pre_key_messages) {
  const Session session = session_from(v::kOneTimeSession[0]);
  BOOST_TEST(session.matches_inbound(v::kSenderCurve25519, v::kOneTimeSession[0].body));
  BOOST_TEST(session.matches_inbound(v::kSenderCurve25519, v::kOneTimeSession[4].body));
  BOOST_TEST(!session.matches_inbound(v::kReceiverIdentityPublic, v::kOneTimeSession[4].body));
  BOOST_TEST(!session.matches_inbound(v::kSenderCurve25519, v::kFallbackSession[0].body));
  BOOST_TEST(!session.matches_inbound(v::kSenderCurve25519, v::kFarAheadSession[0].body));
  BOOST_TEST(!session.matches_inbound(v::kSenderCurve25519, "AwAA"));
  BOOST_TEST(!session.matches_inbound(v::kSenderCurve25519, "%%%"));
}

BOOST_AUTO_TEST_CASE(failures_leave_the_session_unchanged) {
  Session session = session_from(v::kOneTimeSession[0]);
  const std::string before = session.serialize();
  const std::string_view body = v::kOneTimeSession[2].body;
  const std::string bad[] = {
      flip_byte_from_end(body, 0),   // the MAC
      flip_byte_from_end(body, 7),   // the MAC's first byte
      flip_byte_from_end(body, 12),  // the ciphertext
      truncated(body, 1),
      truncated(body, 30),
      "AwAA",
      "garbage!",
      "",
      std::string(v::kFallbackSession[1].body),  // another session
  };
  for (const std::string& message : bad) {
    BOOST_TEST(!session.decrypt(kPreKey, message).has_value(), message);
    BOOST_TEST(!session.decrypt(kNormal, message).has_value(), message);
  }
  BOOST_TEST(!session.decrypt(2, body).has_value());
  BOOST_TEST(!session.decrypt(-1, body).has_value());
  BOOST_TEST(session.serialize() == before);
  check_decrypts(session, v::kOneTimeSession[2]);
  check_decrypts(session, v::kOneTimeSession[1]);
}

BOOST_AUTO_TEST_CASE(refuses_a_message_too_far_ahead) {
  BOOST_TEST(v::kFarAheadSession[1].index - 1 > Session::kMaxMessageGap);
  Session session = session_from(v::kFarAheadSession[0]);
  const std::string before = session.serialize();
  BOOST_TEST(!session.decrypt(kPreKey, v::kFarAheadSession[1].body).has_value());
  BOOST_TEST(session.serialize() == before);
}

BOOST_AUTO_TEST_CASE(keeps_only_the_newest_skipped_message_keys) {
  // Message 45 first: the keys of 0..44 are skipped, of which the newest 40 (5..44) are kept.
  BOOST_TEST(v::kSkipSession[2].index - v::kSkipSession[1].index == Session::kMaxSkippedKeys);
  Account account = vector_receiver();
  auto created = account.create_inbound_session(v::kSenderCurve25519, v::kSkipSession[2].body);
  BOOST_REQUIRE(created.has_value());
  BOOST_TEST(created->plaintext == v::kSkipSession[2].plaintext);
  Session& session = created->session;
  BOOST_TEST(!session.decrypt(kPreKey, v::kSkipSession[0].body).has_value());
  check_decrypts(session, v::kSkipSession[1]);
}

BOOST_AUTO_TEST_CASE(serialized_session_keeps_decrypting) {
  Session session = session_from(v::kOneTimeSession[0]);
  check_decrypts(session, v::kOneTimeSession[2]);  // skips 1
  const auto restored = Session::deserialize(session.serialize());
  BOOST_REQUIRE(restored.has_value());
  Session copy = *restored;
  BOOST_TEST(copy.session_id() == v::kOneTimeSessionId);
  BOOST_TEST(copy.matches_inbound(v::kSenderCurve25519, v::kOneTimeSession[1].body));
  check_decrypts(copy, v::kOneTimeSession[1]);  // the skipped key survived
  check_decrypts(copy, v::kOneTimeSession[4]);
  check_decrypts(copy, v::kOneTimeSession[3]);
  BOOST_TEST(!copy.decrypt(kPreKey, v::kOneTimeSession[2].body).has_value());
}

BOOST_AUTO_TEST_CASE(deserialize_refuses_damaged_bytes) {
  Session session = session_from(v::kOneTimeSession[0]);
  check_decrypts(session, v::kOneTimeSession[3]);
  test::check_refuses_damaged<Session>(session.serialize());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto::olm
