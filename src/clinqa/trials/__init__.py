"""Clinical trials: registry records and trials named in guidelines, matched against a patient.

`parse_trial_file` / `parse_trial_records` read registry files; `trials_in_guideline` finds the trials a
guideline document names; `match_trial` and `rank_trials` judge them criterion by criterion for a patient.
"""

from clinqa.trials.eligibility import condition_names, match_trial, rank_trials
from clinqa.trials.guideline import trials_in_guideline
from clinqa.trials.parse import parse_trial_file, parse_trial_records

__all__ = [
    "condition_names",
    "match_trial",
    "parse_trial_file",
    "parse_trial_records",
    "rank_trials",
    "trials_in_guideline",
]
