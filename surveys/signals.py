"""Survey events other apps react to. Sent after commit: receivers must not raise.

response=SurveyResponse: a contact answered a survey (surveys/services.py record_response).
"""

from django.dispatch import Signal

survey_answered = Signal()
