"""Every table, imported so that SQLModel.metadata knows them all (Alembic compares it)."""

from storage.models import anonymous, feedback, mentoring, points, schedule, surveys, yearend
from storage.models.programme import Ally, BusinessUnit, Member, ProcessedEvent
from storage.models.requests import AllyRequest, Match, Offer

__all__ = [
    "Ally",
    "AllyRequest",
    "BusinessUnit",
    "Match",
    "Member",
    "Offer",
    "ProcessedEvent",
    "anonymous",
    "feedback",
    "mentoring",
    "points",
    "schedule",
    "surveys",
    "yearend",
]
