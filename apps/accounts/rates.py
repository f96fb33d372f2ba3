"""Rate specifications ("2000/s", "60/10m", ["30/m", "600/d"]) for the rate limits of
`apps.accounts.throttling`. Free of Django, so that config/settings/production.py can check the
configured rates before anything starts."""

import re
from dataclasses import dataclass

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$")


@dataclass(frozen=True)
class Rate:
    """`count` requests per `seconds`: written "2000/s", "30/m", "60/10m", "1000/d"."""

    count: int
    seconds: int


def parse_rates(spec) -> list[Rate]:
    """A rate, a list of rates (all must hold: "30/m" and "500/d") or None (no limit)."""
    if spec is None:
        return []
    specs = list(spec) if isinstance(spec, list | tuple) else [spec]
    rates = []
    for one in specs:
        match = RATE_RE.match(one) if isinstance(one, str) else None
        seconds = int(match[2] or 1) * UNITS[match[3]] if match else 0
        if not seconds:
            raise ValueError(f"Not a rate: {one!r} (write N/s, N/m, N/h, N/d or N/<k>m, e.g. 60/10m)")
        rates.append(Rate(int(match[1]), seconds))
    return rates
