"""Renewal events other apps react to (playbooks, webhooks).

Senders pass keyword arguments named in each comment; receivers must not raise.
"""

from django.dispatch import Signal

# renewal=Renewal, old_stage=str, new_stage=str, by=User|None
renewal_stage_changed = Signal()
# notice=RenewalNotice, error=str: a notice bounced or failed permanently.
notice_failed = Signal()
# contact=Contact, notice=RenewalNotice, reason=str, fallback=RenewalNotice|None: the address
# bounced hard or complained; someone must find a working address or the successor.
contact_email_bad = Signal()
# contact=Contact, notice=RenewalNotice|None, source=str: the contact opted out of notices.
contact_opted_out = Signal()
# answer=RenewalAnswer: a notice's recipient answered (renewals/answers.py).
renewal_answered = Signal()
