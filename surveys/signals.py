"""Survey events other apps react to. Sent after commit: receivers must not raise.

response=SurveyResponse, account=Account, score=int|None, answered_on=date: a contact answered a
survey (surveys/services.py record_response). growth raises an expansion suggestion for a promoter.
"""

from django.dispatch import Signal

survey_answered = Signal()
