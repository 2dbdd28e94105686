"""Who may see and do what: the principal of a request and the checks every endpoint applies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

from helpline.auth.models import Role
from helpline.platform.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    """An authenticated operator. `channel_ids` lists the channels an agent is a member of."""

    operator_id: int
    role: Role
    channel_ids: frozenset[int]
    session_id: int | None = None

    @property
    def sees_all_channels(self) -> bool:
        return self.role.at_least(Role.supervisor)

    def can_see_channel(self, channel_id: int) -> bool:
        return self.sees_all_channels or channel_id in self.channel_ids

    def channel_filter(self, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        """A WHERE clause limiting rows to channels this operator may see."""
        if self.sees_all_channels:
            return true()
        if not self.channel_ids:
            return false()
        return column.in_(sorted(self.channel_ids))

    def require(self, role: Role) -> None:
        if not self.role.at_least(role):
            raise Forbidden(f"this needs the {role.value} role")
