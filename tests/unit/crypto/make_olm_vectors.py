#!/usr/bin/python3
"""Writes tests/unit/crypto/olm_vectors.h: Olm and Megolm messages made by libolm (python3-olm).

The receiver's private keys are fixed below so that the C++ test can build the receiving
Account from them; everything the sender makes (its keys, base keys, ratchet keys, Megolm
sessions) is fresh on each run, so regenerating changes the header but not what it tests.

    /usr/bin/python3 tests/unit/crypto/make_olm_vectors.py > tests/unit/crypto/olm_vectors.h
"""

import base64

import olm
from olm.__version__ import __version__ as olm_version
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

RECEIVER_IDENTITY_PRIVATE = bytes(range(1, 33))
RECEIVER_ED25519_SEED = bytes(range(33, 65))
RECEIVER_ONE_TIME_PRIVATE = [bytes([0x40 + i] * 32) for i in range(3)]
RECEIVER_FALLBACK_PRIVATE = bytes(range(200, 232))

FAR_AHEAD_INDEX = 2010  # beyond the 2000-message gap a receiver accepts
SKIP_KEPT_INDEX = 5  # after message 45, a receiver keeps the keys of 5..44 (40), not of 0..4
SKIP_LAST_INDEX = 45
MEGOLM_FAR_INDEXES = [300, 65540]  # past the R(3) and R(2) rollovers of the Megolm ratchet


def b64(data):
    return base64.b64encode(data).decode().rstrip("=")


def public_of(private):
    key = X25519PrivateKey.from_private_bytes(private).public_key()
    return b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def cpp_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def olm_plaintext(n):
    return '{"type":"m.room_key","content":{"n":%d,"text":"message \\u00e9 %d"}}' % (n, n)


def olm_session_vectors(sender, receiver_key, count):
    session = olm.OutboundSession(sender, public_of(RECEIVER_IDENTITY_PRIVATE), receiver_key)
    messages = []
    for n in range(count):
        msg = session.encrypt(olm_plaintext(n))
        assert msg.message_type == 0
        messages.append((msg.ciphertext, olm_plaintext(n), n))
    return session, messages


def print_olm_array(name, messages):
    print("inline constexpr OlmVector %s[] = {" % name)
    for body, plaintext, index in messages:
        print("    {%s,\n     %s, %d}," % (cpp_string(body), cpp_string(plaintext), index))
    print("};")


def olm_part():
    sender = olm.Account()
    one_time_session, one_time = olm_session_vectors(
        sender, public_of(RECEIVER_ONE_TIME_PRIVATE[0]), 5)
    far_session, far = olm_session_vectors(sender, public_of(RECEIVER_ONE_TIME_PRIVATE[1]), 1)
    for n in range(1, FAR_AHEAD_INDEX):
        far_session.encrypt("skipped")
    far_msg = far_session.encrypt(olm_plaintext(FAR_AHEAD_INDEX))
    far.append((far_msg.ciphertext, olm_plaintext(FAR_AHEAD_INDEX), FAR_AHEAD_INDEX))
    skip_session, skip = olm_session_vectors(sender, public_of(RECEIVER_ONE_TIME_PRIVATE[2]), 1)
    for n in range(1, SKIP_LAST_INDEX + 1):
        msg = skip_session.encrypt(olm_plaintext(n))
        if n in (SKIP_KEPT_INDEX, SKIP_LAST_INDEX):
            skip.append((msg.ciphertext, olm_plaintext(n), n))
    fallback_session, fallback = olm_session_vectors(
        sender, public_of(RECEIVER_FALLBACK_PRIVATE), 2)

    print("inline constexpr std::string_view kSenderCurve25519 = %s;"
          % cpp_string(sender.identity_keys["curve25519"]))
    print("inline constexpr std::string_view kReceiverIdentityPrivateHex = %s;"
          % cpp_string(RECEIVER_IDENTITY_PRIVATE.hex()))
    print("inline constexpr std::string_view kReceiverEd25519SeedHex = %s;"
          % cpp_string(RECEIVER_ED25519_SEED.hex()))
    print("inline constexpr std::string_view kReceiverIdentityPublic = %s;"
          % cpp_string(public_of(RECEIVER_IDENTITY_PRIVATE)))
    print("inline constexpr std::string_view kReceiverOneTimePrivateHex[] = {%s};"
          % ", ".join(cpp_string(k.hex()) for k in RECEIVER_ONE_TIME_PRIVATE))
    print("inline constexpr std::string_view kReceiverOneTimePublic[] = {%s};"
          % ", ".join(cpp_string(public_of(k)) for k in RECEIVER_ONE_TIME_PRIVATE))
    print("inline constexpr std::string_view kReceiverFallbackPrivateHex = %s;"
          % cpp_string(RECEIVER_FALLBACK_PRIVATE.hex()))
    print("inline constexpr std::string_view kReceiverFallbackPublic = %s;"
          % cpp_string(public_of(RECEIVER_FALLBACK_PRIVATE)))
    print()
    print("// Pre-key messages 0..4 of one session to one-time key 0, in sending order.")
    print("inline constexpr std::string_view kOneTimeSessionId = %s;"
          % cpp_string(one_time_session.id))
    print_olm_array("kOneTimeSession", one_time)
    print("// A session to one-time key 1: message 0, then message %d." % FAR_AHEAD_INDEX)
    print_olm_array("kFarAheadSession", far)
    print("// A session to one-time key 2: messages 0, %d and %d." % (SKIP_KEPT_INDEX, SKIP_LAST_INDEX))
    print_olm_array("kSkipSession", skip)
    print("// A session to the fallback key: messages 0 and 1.")
    print("inline constexpr std::string_view kFallbackSessionId = %s;"
          % cpp_string(fallback_session.id))
    print_olm_array("kFallbackSession", fallback)


def megolm_plaintext(n):
    return '{"type":"m.room.message","content":{"body":"hello %d"},"room_id":"!r:h"}' % n


def megolm_part():
    outbound = olm.OutboundGroupSession()
    key_at_0 = outbound.session_key
    messages = []
    key_at_2 = None
    last = max(MEGOLM_FAR_INDEXES)
    for n in range(last + 1):
        if n == 2:
            key_at_2 = outbound.session_key
        if n < 5 or n in MEGOLM_FAR_INDEXES:
            messages.append((outbound.encrypt(megolm_plaintext(n)), megolm_plaintext(n), n))
        else:
            outbound.encrypt("skipped")
    check = olm.InboundGroupSession(key_at_0)
    for body, plaintext, index in messages:
        assert check.decrypt(body) == (plaintext, index)

    print("inline constexpr std::string_view kMegolmSessionId = %s;" % cpp_string(outbound.id))
    print("inline constexpr std::string_view kMegolmSessionKeyAt0 = %s;" % cpp_string(key_at_0))
    print("inline constexpr std::string_view kMegolmSessionKeyAt2 = %s;" % cpp_string(key_at_2))
    other = olm.OutboundGroupSession()
    print("// Message 0 of another Megolm session.")
    print("inline constexpr std::string_view kOtherMegolmMessage = %s;"
          % cpp_string(other.encrypt(megolm_plaintext(0))))
    print("// Messages 0..4, %s of the kMegolmSessionId session." % " and ".join(map(str, MEGOLM_FAR_INDEXES)))
    print("inline constexpr MegolmVector kMegolmMessages[] = {")
    for body, plaintext, index in messages:
        print("    {%s,\n     %s, %d}," % (cpp_string(body), cpp_string(plaintext), index))
    print("};")


def main():
    print("// Generated by tests/unit/crypto/make_olm_vectors.py with python3-olm %s; do not edit."
          % olm_version)
    print("// Olm and Megolm messages made by libolm, for the receiving side in crypto/olm*.")
    print("#pragma once")
    print()
    print("#include <cstdint>")
    print("#include <string_view>")
    print()
    print("namespace haven::crypto::olm::vectors {")
    print()
    print("struct OlmVector { std::string_view body; std::string_view plaintext; uint32_t index; };")
    print("struct MegolmVector { std::string_view body; std::string_view plaintext; uint32_t index; };")
    print()
    olm_part()
    print()
    megolm_part()
    print()
    print("}  // namespace haven::crypto::olm::vectors")


if __name__ == "__main__":
    main()
