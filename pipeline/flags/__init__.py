"""Explainable, adjudicable red flags (DESIGN §8, issue 5): rules in `rules`, thresholds in
`data/reference/flag_rules.yaml` (`config`), the build stage in `stage`, verdicts in `adjudicate`, CSV in `export`.
"""

from __future__ import annotations

from pipeline.flags.adjudicate import FlagError, flag_rows, record_verdict
from pipeline.flags.export import export_flags
from pipeline.flags.rules import CODES
from pipeline.flags.stage import FlagReport, compute_flags, run_flags

__all__ = ["CODES", "FlagError", "FlagReport", "compute_flags", "export_flags", "flag_rows", "record_verdict", "run_flags"]
