"""Renewal events other apps react to (playbooks, webhooks).

Senders pass keyword arguments named in each comment. Two kinds:

- sent after commit (``renewal_stage_changed``, ``notice_failed``): receivers must not raise;
- sent inside the sender's transaction (``renewal_coverage_changed``, ``notice_marked_failed``,
  ``contact_email_bad``):
  receivers write in that transaction and let errors through, so what they write is never lost
  while the change that caused it is kept (playbooks opens the CSM's tasks this way).
"""

from django.dispatch import Signal

# renewal=Renewal, old_stage=str, new_stage=str, by=User|None
renewal_stage_changed = Signal()
# changes=list[(Renewal, old_stage, new_stage)], by=User|None: the same for many renewals at once
# (the lifecycle job's auto-renewals and lapses), after commit; each receiver handles the list in
# a bounded number of statements. Renewals carry ``contract__account`` loaded.
renewal_stages_changed = Signal()
# notice=RenewalNotice, error=str: a notice bounced or failed permanently (after commit).
notice_failed = Signal()
# notice=RenewalNotice, error=str, today=date, address_bad=bool: the same, inside the transaction that
# marks it failed. address_bad: the address was refused for good and contact_email_bad follows.
notice_marked_failed = Signal()
# changed=list[(renewal_id, Renewal.Coverage value)], today=date: renewals whose contact coverage
# the planner just changed, inside its transaction. Each change is reported once. A receiver may
# return how many tasks it opened (the planner reports the sum).
renewal_coverage_changed = Signal()
# contact=Contact, notice=RenewalNotice, reason=str, fallback=RenewalNotice|None, today=date: the address
# bounced hard, complained or was refused for good; someone must find a working address or the
# successor. Inside the transaction that marks the address bad: receivers let errors through.
contact_email_bad = Signal()
# contact=Contact, notice=RenewalNotice|None, source=str: the contact opted out of notices.
contact_opted_out = Signal()
# answer=RenewalAnswer: a notice's recipient answered (renewals/answers.py).
renewal_answered = Signal()
# overdue=list[(Renewal, lapses_on: date)], today=date: contracts that ended with the renewal still
# open (renewals carry ``owner`` and ``contract__account`` loaded). Sent once per term, one list per
# chunk, inside the lifecycle job's transaction: receivers let errors through.
renewals_overdue = Signal()
