"""What a popup is, as its rule module declares it (`POPUP = PopupDefinition(...)`).

The registry (`apps.status.engine.registry`) collects the declarations; the engine, the status
API, the admin, the work queue and the person page read them there and nowhere else.
"""

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..choices import PopupClears
from .texts import fill

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
HEADING = _("Popup %(circled)s: %(title)s")


@dataclass(frozen=True, eq=False)
class PopupDefinition:
    """One numbered popup (SPEC §2).

    `title` and `guidance` are English msgids (gettext_lazy) whose `%(name)s` placeholders are
    parameters of the policy in force (`lookback_days`, `inbound_quarantine_days`, … — the fields
    of `apps.policy.selectors.Policy`), filled when shown, never written into the text.
    Every popup clears automatically when its evidence is gone; `released_manually` says staff may
    also release it after verification (SPEC §5), and `queued` that it is on the community's work
    queue for that verification. Compared by identity: hashing a lazy title would translate it."""

    number: int
    key: str
    title: Promise
    guidance: Promise
    released_manually: bool = False
    queued: bool = False

    @property
    def circled(self) -> str:
        """① … ⑳ (the number as printed on the code)."""
        return circled(self.number)

    @property
    def clears(self) -> str:
        """How it clears, as the status API says it (`PopupState.clears`)."""
        return PopupClears.MANUAL_OR_AUTO if self.released_manually else PopupClears.AUTO

    @functools.cached_property
    def policy_params(self) -> tuple[str, ...]:
        """The policy parameters its title and guidance name (read from the English msgids)."""
        with translation.override(None):
            english = f"{self.title} {self.guidance}"
        return tuple(dict.fromkeys(PLACEHOLDER.findall(english)))

    def params_from(self, policy) -> tuple[tuple[str, int], ...]:
        """The values of `policy_params` in `policy` (a Policy), as stored with an active popup."""
        known = {f.name for f in fields(policy)}
        return tuple((name, getattr(policy, name)) for name in self.policy_params if name in known)

    def title_text(self, params: Mapping) -> str:
        """The title in the active language with the policy's parameters: "近14天到过…"."""
        return fill(self.title, params)

    def heading(self, params: Mapping) -> str:
        """The title as the status API and the screens show it: "弹窗①：近14天到过…"."""
        return fill(HEADING, {"circled": self.circled, "title": self.title_text(params)})

    def guidance_text(self, params: Mapping) -> str:
        return fill(self.guidance, params)


def circled(number) -> str:
    """3 → ③ (1–20); anything else as it is."""
    try:
        n = int(number)
    except (TypeError, ValueError):
        return str(number)
    return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(number)
