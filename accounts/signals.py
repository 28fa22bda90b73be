"""Events other apps react to (playbooks create tasks, webhooks go out).

Senders pass keyword arguments named in each comment; receivers must not raise.
"""

from django.dispatch import Signal

# contact=Contact, today=date, by=User|None: a contact was marked as having left.
contact_left = Signal()
# day=date, changes=list[health.nightly.BandChange]: accounts whose health band changed in the
# night's recalculation, sent in batches (a night can change the band of 100,000 accounts).
health_bands_changed = Signal()
# account_id=int, today=date, by=User|None: an account's contacts changed (added, edited, left,
# succeeded). Sent inside the writing transaction, so a task the change finishes closes with it.
contacts_changed = Signal()
