"""One module per rule of SPEC §2–3, each exposing `evaluate(facts, t) -> RuleOutcome`."""
