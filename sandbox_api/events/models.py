"""Events: the append-only audit trail of every write, which is also the change feed."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, column_property, mapped_column

from sandbox_api.db import Base, JSONDocument, UTCDateTime, str_enum, utcnow
from sandbox_api.keys.models import Role
from sandbox_api.rendering import json_without_key, key


class Event(Base):
    """One write to the registry. The database refuses to update or delete a row (see migration 0003).

    No foreign keys: an event outlives the case, key or agency it names.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_case_id_id", "case_id", "id"),
        Index("ix_events_public_id", "public", "id"),
        Index("ix_events_case_agency_id_id", "case_agency_id", "id"),
    )

    # SQLite gives INTEGER PRIMARY KEY its rowid; PostgreSQL an identity column. Ids are handed out
    # in commit order (see audit.py), so that the change feed can page by id.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_key_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[Role | None] = mapped_column(str_enum(Role, "event_actor_role"))
    actor_agency_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None]
    # The agency that owned the case when the event happened: it may read the event in the feed.
    case_agency_id: Mapped[uuid.UUID | None]
    # Whether anyone may read the event: a change to published data, or the publication itself.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    # For a publication: the whole published case with its children, so that a feed reader who
    # never saw the draft can add it (see the `GET /api/v1/changes` description).
    snapshot: Mapped[dict | None] = mapped_column(JSONDocument)
    note: Mapped[str | None] = mapped_column(String(2000))
    request_id: Mapped[str | None] = mapped_column(String(200))

    # What callers without a key may see of `changes`: never a case's contact point.
    public_changes: Mapped[dict] = column_property(json_without_key(changes, key("contact")), deferred=True)
