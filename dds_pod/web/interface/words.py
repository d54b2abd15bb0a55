"""The standard's words in the reader's language: kinds of contribution, statuses, stances, roles, reactions.

The read model hands these over as the standard's local names (``accepted``, ``inFavour``); each is translated
here, once, and a word the interface does not know yet is shown as it is rather than hidden.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KINDS = {
    "proposals": _l("Proposals"), "amendments": _l("Amendments"), "comments": _l("Comments"),
    "debates": _l("Debates"), "budget-projects": _l("Budget projects"), "meetings": _l("Meetings"),
    "results": _l("Results"), "decisions": _l("Decisions"), "spaces": _l("Participatory spaces"),
}
KIND = {
    "proposals": _l("Proposal"), "amendments": _l("Amendment"), "comments": _l("Comment"),
    "debates": _l("Debate"), "budget-projects": _l("Budget project"), "meetings": _l("Meeting"),
    "results": _l("Result"), "decisions": _l("Decision"), "spaces": _l("Participatory space"),
}
STATUSES = {
    "submitted": _l("Submitted"), "evaluating": _l("Being evaluated"), "accepted": _l("Accepted"),
    "rejected": _l("Rejected"), "withdrawn": _l("Withdrawn"), "selected": _l("Selected"),
    "notSelected": _l("Not selected"), "inProgress": _l("In progress"), "implemented": _l("Implemented"),
}
STANCES = {"inFavour": _l("In favour"), "against": _l("Against"), "neutral": _l("Neutral")}
ROLES = {"adopted": _l("Adopted"), "partiallyAdopted": _l("Partially adopted"), "merged": _l("Merged"),
         "notRetained": _l("Not retained")}
READ_IN = {"ca": _l("Read in Catalan"), "es": _l("Read in Spanish"), "fr": _l("Read in French"),
           "en": _l("Read in English")}
REACTIONS = {"supports": _l("Supports"), "likes": _l("Likes"), "dislikes": _l("Dislikes"),
             "comments": _l("Comments")}


def word(table: dict, key: str | None) -> str:
    """The translation of ``key`` in ``table`` (its own text when it has none, ``""`` for None)."""
    if key is None:
        return ""
    return str(table.get(key, key))


FILTERS = {
    "kinds_label": lambda key: word(KINDS, key), "kind_label": lambda key: word(KIND, key),
    "status_label": lambda key: word(STATUSES, key), "stance_label": lambda key: word(STANCES, key),
    "role_label": lambda key: word(ROLES, key), "reaction_label": lambda key: word(REACTIONS, key),
    "read_in_label": lambda key: word(READ_IN, key),
}
