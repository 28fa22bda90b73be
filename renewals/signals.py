"""Renewal events other apps react to (playbooks, webhooks).

Senders pass keyword arguments named in each comment; receivers must not raise.
"""

from django.dispatch import Signal

# renewal=Renewal, old_stage=str, new_stage=str, by=User|None
renewal_stage_changed = Signal()
# notice=RenewalNotice, error=str: a notice bounced or failed permanently.
notice_failed = Signal()
# renewal=Renewal, today=date, lapses_on=date: the contract ended with the renewal still open.
# Sent once per term, inside the lifecycle job's transaction: receivers let errors through.
renewal_overdue = Signal()
