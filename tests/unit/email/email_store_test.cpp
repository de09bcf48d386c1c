// The stored notice states and the outbox: what is pending survives, mails keep their order
// and their retry state.
#include "homeserver/email/email_store.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

namespace haven::email {

BOOST_AUTO_TEST_SUITE(email_store)

BOOST_AUTO_TEST_CASE(notice_states_and_pending_users) {
  test::TestStore ts;
  BOOST_TEST(!get_notice_state(*ts.read(), "@a:x").has_value());
  ts.write([](storage::WriteTxn& txn) {
    auto s = put_notice_state(txn, "@a:x", NoticeState{1000, 7, 500});
    if (!s.ok()) return s;
    return put_notice_state(txn, "@b:x", NoticeState{0, 9, 800});
  });
  auto a = get_notice_state(*ts.read(), "@a:x");
  BOOST_REQUIRE(a.has_value());
  BOOST_TEST(a->pending_since_ms == 1000);
  BOOST_TEST(a->notified_pos == 7u);
  BOOST_TEST(a->last_sent_ms == 500);
  auto pending = pending_notices(*ts.read());
  BOOST_REQUIRE(pending.size() == 1u);
  BOOST_TEST(pending[0].first == "@a:x");
}

BOOST_AUTO_TEST_CASE(outbox_keeps_order_and_retry_state) {
  test::TestStore ts;
  OutgoingMail first, second;
  first.user_id = "@a:x";
  first.to = "a@example.org";
  first.message = "From: x\r\n\r\nbody\r\n";
  first.queued_ms = 10;
  second = first;
  second.kind = MailKind::kValidation;
  second.to = "b@example.org";
  ts.write([&](storage::WriteTxn& txn) {
    auto s = queue_mail(txn, first);
    if (!s.ok()) return s;
    return queue_mail(txn, second);
  });
  BOOST_TEST(second.id > first.id);
  auto mails = queued_mails(*ts.read(), 10);
  BOOST_REQUIRE(mails.size() == 2u);
  BOOST_TEST(mails[0].to == "a@example.org");
  BOOST_TEST(mails[0].message == first.message);
  BOOST_TEST((mails[1].kind == MailKind::kValidation));
  BOOST_TEST(queued_mail_count(*ts.read(), 100) == 2u);
  BOOST_TEST(queued_mail_count(*ts.read(), 1) == 1u);

  mails[0].attempts = 3;
  mails[0].next_attempt_ms = 99;
  ts.write([&](storage::WriteTxn& txn) { return put_mail(txn, mails[0]); });
  auto again = get_mail(*ts.read(), first.id);
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(again->attempts == 3);
  BOOST_TEST(again->next_attempt_ms == 99);

  ts.write([&](storage::WriteTxn& txn) { return delete_mail(txn, first.id); });
  BOOST_TEST(!get_mail(*ts.read(), first.id).has_value());
  BOOST_TEST(queued_mails(*ts.read(), 10).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::email
