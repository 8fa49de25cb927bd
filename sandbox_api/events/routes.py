"""HTTP route for the change feed."""

from flask.views import MethodView

from sandbox_api.events import service
from sandbox_api.events.schemas import FeedQuerySchema, FeedSchema
from sandbox_api.http.api import Blueprint
from sandbox_api.http.responses import json_response
from sandbox_api.policy.auth import PUBLIC, current_caller
from sandbox_api.storage.db import db

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/api/v1/changes",
    description="Every write to the registry, in commit order, for integrators who follow changes.",
)


@blp.route("")
class ChangeViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(FeedQuerySchema(), location="query")
    @blp.response(200, FeedSchema)
    def get(self, query):
        """Follow the change feed

        Events in the order their writes committed, at most `limit` after the cursor `after`. Start without
        `after`, then send the `next` of each answer as the next `after`; an answer with no events means
        there is nothing new yet (poll again later with the same `next`). The cursor is an event's `id`, in
        decimal digits, and never expires: a reader that stopped may resume from the `id` of the last event
        it stored.

        What each caller reads: NAIO and admin, every event; an `agency` key, the events of its own cases
        and the public ones; without a key, the public ones only (writes to agencies and to published cases,
        publications and unpublications), without actor, note, request id or contact details.

        **Rebuilding the published registry** from the events read without a key, in order:
        - `publish` (a case): replace the case, its `risks`, `outcomes`, `lessons` and the `adoptions` between
          it and other published cases with those of `snapshot`.
        - `unpublish`, or `delete` of a case: remove the case, its children and the adoptions involving it.
        - `delete` of anything else: remove it; a lesson's adoptions go with it, and a deleted risk or outcome
          leaves the `evidence` of the case's lessons.
        - Any other action: set each field in `changes` to its new value on the entity `entity_id` (of type
          `entity_type`), creating it if needed.

        The result holds every published case, risk, outcome, lesson and adoption and every agency, field
        for field, except fields derived from other records or from the date, which the reader recomputes:
        `review_overdue` (a case's `next_review_due` has passed while it is live), a case's `lead_agency` and
        each of its partners' `agency` (the `slug` and `name` of the agency of its `lead_agency_id` or
        `agency_id`, which change with that agency's own events), a lesson's `origin_sector` (its case's
        `primary_sector`) and `adoption_count`, and an adoption's `adopting_agency_id`, `adopting_agency` (that
        agency's `slug` and `name`) and `adopting_sector`.
        """
        caller = current_caller()
        return json_response(
            service.feed(session=db.session, caller=caller, after=query.get("after"), limit=query["limit"])
        )
