"""Events other apps react to (playbooks create tasks, webhooks go out).

Senders pass keyword arguments named in each comment; receivers must not raise.
"""

from django.dispatch import Signal

# contact=Contact, today=date, by=User|None: a contact was marked as having left.
contact_left = Signal()
# touchpoint=Touchpoint: a touchpoint was logged.
touchpoint_logged = Signal()
# account=Account, day=date, old_band=str|None, new_band=str, old_score=int|None, new_score=int
health_band_changed = Signal()
