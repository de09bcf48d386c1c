#include "crypto/json_signing.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "crypto/base64.h"
#include "crypto/canonical_json.h"
#include "tests/unit/crypto/test_util.h"

namespace haven::crypto {
namespace {

using test::parse_json;

// The appendix "Cryptographic Test Vectors": this seed, server "domain", key id "ed25519:1".
SigningKey spec_key() {
  auto key = SigningKey::from_file_line("ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
  BOOST_REQUIRE(key.has_value());
  return *key;
}

std::string canonical(const rapidjson::Value& v) {
  return canonical_json(v).value_or("NOT CANONICALISABLE");
}

std::string string_at(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* name : path) {
    if (!cur->IsObject() || !cur->HasMember(name)) return "MISSING";
    cur = &(*cur)[name];
  }
  return cur->IsString() ? cur->GetString() : "NOT A STRING";
}

rapidjson::Document copy_of(const rapidjson::Value& v) {
  rapidjson::Document doc;
  doc.CopyFrom(v, doc.GetAllocator());
  return doc;
}

constexpr std::string_view kMinimalEvent = R"({
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "signatures": {},
    "hashes": {},
    "type": "X",
    "content": {},
    "prev_events": [],
    "auth_events": [],
    "depth": 3,
    "unsigned": {
        "age_ts": 1000000
    }
})";

constexpr std::string_view kSignedMinimalEvent = R"({
    "auth_events": [],
    "content": {},
    "depth": 3,
    "hashes": {
        "sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"
    },
    "origin": "domain",
    "origin_server_ts": 1000000,
    "prev_events": [],
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "signatures": {
        "domain": {
            "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"
        }
    },
    "type": "X",
    "unsigned": {
        "age_ts": 1000000
    }
})";

constexpr std::string_view kMessageEvent = R"({
    "content": {
        "body": "Here is the message content"
    },
    "event_id": "$0:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {},
    "unsigned": {
        "age_ts": 1000000
    }
})";

constexpr std::string_view kSignedMessageEvent = R"({
    "content": {
        "body": "Here is the message content"
    },
    "event_id": "$0:domain",
    "hashes": {
        "sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"
    },
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {
        "domain": {
            "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"
        }
    },
    "unsigned": {
        "age_ts": 1000000
    }
})";

// What the redaction algorithm leaves of a hashed m.room.message event: the content emptied,
// "unsigned" dropped (json_signing knows no room versions, so the test redacts by hand).
rapidjson::Document redacted_message(const rapidjson::Value& event) {
  rapidjson::Document redacted = copy_of(event);
  redacted["content"].SetObject();
  redacted.RemoveMember("unsigned");
  return redacted;
}

BOOST_AUTO_TEST_SUITE(json_signing_suite)

BOOST_AUTO_TEST_CASE(signing_an_empty_object_matches_the_appendix) {
  auto doc = parse_json("{}");
  BOOST_REQUIRE(sign_json(doc, doc.GetAllocator(), "domain", spec_key()));
  const auto expected = parse_json(R"({
    "signatures": {
        "domain": {
            "ed25519:1": "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"
        }
    }
})");
  BOOST_TEST(canonical(doc) == canonical(expected));
}

BOOST_AUTO_TEST_CASE(signing_an_object_with_data_matches_the_appendix) {
  auto doc = parse_json(R"({"one": 1, "two": "Two"})");
  BOOST_REQUIRE(sign_json(doc, doc.GetAllocator(), "domain", spec_key()));
  const auto expected = parse_json(R"({
    "one": 1,
    "signatures": {
        "domain": {
            "ed25519:1": "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"
        }
    },
    "two": "Two"
})");
  BOOST_TEST(canonical(doc) == canonical(expected));
}

BOOST_AUTO_TEST_CASE(appendix_signed_objects_verify) {
  const std::string pk = spec_key().public_key();
  BOOST_TEST(verify_json(parse_json(R"({"signatures": {"domain": {"ed25519:1":
      "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}})"),
                         "domain", "ed25519:1", pk));
  BOOST_TEST(verify_json(parse_json(kSignedMinimalEvent), "domain", "ed25519:1", pk));
}

BOOST_AUTO_TEST_CASE(verify_ignores_unsigned_and_other_signatures) {
  auto doc = parse_json(R"({"a": 1})");
  const SigningKey key = spec_key();
  BOOST_REQUIRE(sign_json(doc, doc.GetAllocator(), "domain", key));
  auto& alloc = doc.GetAllocator();
  doc.AddMember("unsigned", rapidjson::Value(rapidjson::kObjectType), alloc);
  doc["unsigned"].AddMember("age", 5, alloc);
  rapidjson::Value other(rapidjson::kObjectType);
  other.AddMember("ed25519:x", "c2ln", alloc);
  doc["signatures"].AddMember("other.example", other, alloc);
  BOOST_TEST(verify_json(doc, "domain", "ed25519:1", key.public_key()));
}

BOOST_AUTO_TEST_CASE(verify_refuses_changed_content) {
  auto doc = parse_json(kSignedMinimalEvent);
  doc["depth"].SetInt64(4);
  BOOST_TEST(!verify_json(doc, "domain", "ed25519:1", spec_key().public_key()));
}

BOOST_AUTO_TEST_CASE(verify_refuses_a_missing_or_malformed_signature) {
  const std::string pk = spec_key().public_key();
  const auto doc = parse_json(kSignedMinimalEvent);
  BOOST_TEST(!verify_json(doc, "other", "ed25519:1", pk));
  BOOST_TEST(!verify_json(doc, "domain", "ed25519:2", pk));
  BOOST_TEST(!verify_json(doc, "domain", "ed25519:1", SigningKey::generate("z").public_key()));
  BOOST_TEST(!verify_json(parse_json(R"({"a": 1})"), "domain", "ed25519:1", pk));
  BOOST_TEST(!verify_json(parse_json(R"({"signatures": []})"), "domain", "ed25519:1", pk));
  BOOST_TEST(!verify_json(parse_json(R"({"signatures": {"domain": {"ed25519:1": "!!"}}})"),
                          "domain", "ed25519:1", pk));
  BOOST_TEST(!verify_json(parse_json(R"({"signatures": {"domain": {"ed25519:1": 7}}})"), "domain",
                          "ed25519:1", pk));
  BOOST_TEST(!verify_json(parse_json("[]"), "domain", "ed25519:1", pk));
}

BOOST_AUTO_TEST_CASE(verify_refuses_key_ids_of_other_algorithms) {
  // A valid ed25519 signature filed under another algorithm's key id does not count.
  auto doc = parse_json(R"({"a": 1})");
  const SigningKey key = spec_key();
  BOOST_REQUIRE(sign_json(doc, doc.GetAllocator(), "domain", key));
  const std::string signature = string_at(doc, {"signatures", "domain", "ed25519:1"});
  doc["signatures"]["domain"].AddMember(
      "curve25519:1", rapidjson::Value(signature.c_str(), doc.GetAllocator()), doc.GetAllocator());
  BOOST_TEST(!verify_json(doc, "domain", "curve25519:1", key.public_key()));
}

BOOST_AUTO_TEST_CASE(signing_keeps_existing_signatures_and_unsigned) {
  auto doc = parse_json(
      R"({"a": 1, "unsigned": {"u": 2}, "signatures": {"other": {"ed25519:o": "c2ln"}}})");
  const SigningKey key = spec_key();
  BOOST_REQUIRE(sign_json(doc, doc.GetAllocator(), "domain", key));
  BOOST_TEST(string_at(doc, {"signatures", "other", "ed25519:o"}) == "c2ln");
  BOOST_TEST(doc["unsigned"]["u"].GetInt() == 2);
  BOOST_TEST(verify_json(doc, "domain", "ed25519:1", key.public_key()));
}

BOOST_AUTO_TEST_CASE(signing_twice_replaces_the_signature_instead_of_duplicating_it) {
  auto doc = parse_json(R"({"a": 1})");
  const SigningKey key = spec_key();
  BOOST_REQUIRE(sign_json(doc, doc.GetAllocator(), "domain", key));
  doc["a"].SetInt(2);
  BOOST_REQUIRE(sign_json(doc, doc.GetAllocator(), "domain", key));
  BOOST_TEST(doc["signatures"]["domain"].MemberCount() == 1u);
  BOOST_TEST(verify_json(doc, "domain", "ed25519:1", key.public_key()));
}

BOOST_AUTO_TEST_CASE(signing_refuses_uncanonical_json_and_leaves_the_object_alone) {
  auto doc = parse_json(R"({"a": 1.5})");
  BOOST_TEST(!sign_json(doc, doc.GetAllocator(), "domain", spec_key()));
  BOOST_TEST(!doc.HasMember("signatures"));
  auto bad_signatures = parse_json(R"({"a": 1, "signatures": {"domain": "x"}})");
  BOOST_TEST(!sign_json(bad_signatures, bad_signatures.GetAllocator(), "domain", spec_key()));
  BOOST_TEST(string_at(bad_signatures, {"signatures", "domain"}) == "x");
  auto array = parse_json("[]");
  BOOST_TEST(!sign_json(array, array.GetAllocator(), "domain", spec_key()));
}

BOOST_AUTO_TEST_CASE(minimal_event_hash_and_signature_match_the_appendix) {
  auto event = parse_json(kMinimalEvent);
  BOOST_REQUIRE(add_content_hash(event, event.GetAllocator()));
  BOOST_TEST(string_at(event, {"hashes", "sha256"}) ==
             "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos");
  // Redacting this event changes nothing that signing does not already leave out.
  BOOST_REQUIRE(sign_json(event, event.GetAllocator(), "domain", spec_key()));
  BOOST_TEST(canonical(event) == canonical(parse_json(kSignedMinimalEvent)));
}

BOOST_AUTO_TEST_CASE(message_event_hash_and_signature_match_the_appendix) {
  auto event = parse_json(kMessageEvent);
  BOOST_REQUIRE(add_content_hash(event, event.GetAllocator()));
  BOOST_TEST(string_at(event, {"hashes", "sha256"}) ==
             "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g");
  // Events are signed in their redacted form; the signature goes on the full event.
  auto redacted = redacted_message(event);
  BOOST_REQUIRE(sign_json(redacted, redacted.GetAllocator(), "domain", spec_key()));
  BOOST_TEST(string_at(redacted, {"signatures", "domain", "ed25519:1"}) ==
             string_at(parse_json(kSignedMessageEvent), {"signatures", "domain", "ed25519:1"}));
}

BOOST_AUTO_TEST_CASE(appendix_signed_message_event_verifies_only_in_redacted_form) {
  const auto event = parse_json(kSignedMessageEvent);
  const std::string pk = spec_key().public_key();
  BOOST_TEST(verify_json(redacted_message(event), "domain", "ed25519:1", pk));
  BOOST_TEST(!verify_json(event, "domain", "ed25519:1", pk));
}

BOOST_AUTO_TEST_CASE(content_hash_ignores_unsigned_signatures_and_hashes) {
  auto event = parse_json(kMinimalEvent);
  const auto before = content_hash(event);
  BOOST_REQUIRE(before.has_value());
  BOOST_TEST(before->size() == 32u);
  auto& alloc = event.GetAllocator();
  event["unsigned"].AddMember("more", 1, alloc);
  event["signatures"].AddMember("x", rapidjson::Value(rapidjson::kObjectType), alloc);
  event["hashes"].AddMember("sha256", "abc", alloc);
  BOOST_TEST((content_hash(event) == before));
  event["depth"].SetInt(9);
  BOOST_TEST((content_hash(event) != before));
}

BOOST_AUTO_TEST_CASE(content_hash_refuses_uncanonical_events) {
  BOOST_TEST(!content_hash(parse_json(R"({"depth": 1.5})")).has_value());
  auto event = parse_json(R"({"depth": 1.5})");
  BOOST_TEST(!add_content_hash(event, event.GetAllocator()));
  BOOST_TEST(!event.HasMember("hashes"));
}

BOOST_AUTO_TEST_CASE(add_content_hash_replaces_existing_hashes) {
  auto event = parse_json(R"({"a": 1, "hashes": {"sha256": "old", "other": "x"}})");
  BOOST_REQUIRE(add_content_hash(event, event.GetAllocator()));
  BOOST_TEST(event["hashes"].MemberCount() == 1u);
  BOOST_TEST(string_at(event, {"hashes", "sha256"}) != "old");
  BOOST_TEST(check_content_hash(event));
}

BOOST_AUTO_TEST_CASE(check_content_hash_accepts_appendix_events) {
  BOOST_TEST(check_content_hash(parse_json(kSignedMinimalEvent)));
  BOOST_TEST(check_content_hash(parse_json(kSignedMessageEvent)));
}

BOOST_AUTO_TEST_CASE(check_content_hash_refuses_changed_or_missing_hashes) {
  auto changed = parse_json(kSignedMessageEvent);
  changed["content"]["body"].SetString("Something else");
  BOOST_TEST(!check_content_hash(changed));
  auto missing = parse_json(kSignedMessageEvent);
  missing.RemoveMember("hashes");
  BOOST_TEST(!check_content_hash(missing));
  BOOST_TEST(!check_content_hash(parse_json(R"({"hashes": {"sha256": "!!"}})")));
  BOOST_TEST(!check_content_hash(parse_json(R"({"hashes": {"sha256": 1}})")));
  BOOST_TEST(!check_content_hash(parse_json(R"({"hashes": "x"})")));
}

BOOST_AUTO_TEST_CASE(reference_hash_of_the_minimal_event_matches_an_independent_computation) {
  // Expected value computed with Python's json.dumps(sort_keys, compact) and hashlib, from
  // the appendix's signed minimal event (which redaction leaves unchanged but for "unsigned").
  const auto hash = reference_hash(parse_json(kSignedMinimalEvent));
  BOOST_REQUIRE(hash.has_value());
  BOOST_TEST(base64_encode(*hash) == "8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc");
}

BOOST_AUTO_TEST_CASE(reference_hash_covers_hashes_but_not_signatures_unsigned_or_age_ts) {
  auto event = parse_json(kSignedMinimalEvent);
  const auto before = reference_hash(event);
  auto& alloc = event.GetAllocator();
  event.AddMember("age_ts", 5, alloc);
  event["signatures"]["domain"]["ed25519:1"].SetString("changed");
  event["unsigned"]["age_ts"].SetInt(1);
  BOOST_TEST((reference_hash(event) == before));
  event["hashes"]["sha256"].SetString("changed");
  BOOST_TEST((reference_hash(event) != before));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
