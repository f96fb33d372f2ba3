"""How a status is shown (SPEC §1–2): the state labels, and a stored status's popups and reasons
rendered in the active language — the popups' titles and guidance from their definitions
(`apps.status.engine.registry`) with the policy's parameters, the reasons from their codes."""

from .choices import State
from .engine import registry
from .engine.texts import render

STATE_LABEL = {State.GREEN: "未见异常", State.POPUP: "弹窗", State.YELLOW: "居家观察", State.RED: "集中观察"}
STATE_COLOUR = {State.GREEN: "green", State.POPUP: "none", State.YELLOW: "yellow", State.RED: "red"}


def popup_shown(stored: dict, policy=None) -> dict:
    """An active popup as the status API gives it: `number`, `title`, `guidance`, `since`,
    `clears`, `clears_at`. The title and guidance take the policy parameters stored with it;
    a popup stored without them takes `policy` (the policy in force when it was computed)."""
    number = stored["number"]
    shown = {k: v for k, v in stored.items() if k != "params"}
    if number not in registry.POPUPS:
        return {"number": number, "title": str(number), "guidance": "", **shown}
    definition = registry.popup(number)
    params = stored.get("params")
    if params is None:
        params = dict(definition.params_from(policy)) if policy is not None else {}
    return {
        "number": number,
        "title": definition.heading(params),
        "guidance": definition.guidance_text(params),
        **shown,
    }


def popups_shown(stored: list[dict], *, policy=None) -> list[dict]:
    return [popup_shown(p, policy) for p in stored]


def needs_policy(stored: list[dict]) -> bool:
    """Whether some popup was stored without its policy parameters (computed before they were)."""
    return any(
        "params" not in p and p.get("number") in registry.POPUPS and registry.popup(p["number"]).policy_params
        for p in stored
    )


def reason_shown(stored: dict) -> dict:
    """A reason as the status API gives it: its `summary` and `clears` rendered."""
    return {**stored, "summary": render(stored.get("summary")), "clears": render(stored.get("clears"))}


def reasons_shown(stored: list[dict]) -> list[dict]:
    return [reason_shown(r) for r in stored]
