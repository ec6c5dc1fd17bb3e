"""Small source files written for the hostile-input tests, and a guard that turns a hang into a failure."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

GOOD_TRIAL_ID = "NCT09000001"


def guideline(title: str, extra: str = "") -> str:
    """A small Markdown guideline page with front matter, two sections and one reference."""
    return (
        f"---\ntitle: {title}\nlastReviewed: '2024-05-01'\n---\n\n"
        f"# {title}\n\n"
        "## Treatment options\n\n"
        "Complete surgical removal of the tumour is the main treatment when all of it can be taken out.[1]\n\n"
        "- Chemotherapy before and after the operation is offered to most younger patients.\n\n"
        f"## Follow-up\n\nScans of the chest are repeated every few months during the first years.{extra}\n\n"
        "###### References\n\n"
        "1. Writer A, Author B: Outcomes after surgery for bone tumours. J Example 12 (3): 45-50, 2001.\n"
    )


def ctgov_study(nct_id: str = GOOD_TRIAL_ID, title: str = "A study of an example drug for bone tumours") -> dict:
    """A ClinicalTrials.gov API v2 record with the fields clinqa reads."""
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": title},
            "statusModule": {"overallStatus": "RECRUITING"},
            "conditionsModule": {"conditions": ["Osteosarcoma"]},
            "eligibilityModule": {
                "eligibilityCriteria": "Inclusion Criteria:\n\n* Age 12 to 30 years\n\nExclusion Criteria:\n\n* None",
                "minimumAge": "12 Years",
                "maximumAge": "30 Years",
            },
        }
    }


def ctgov_xml(nct_id: str = GOOD_TRIAL_ID, title: str = "A study of an example drug for bone tumours") -> str:
    """A legacy ClinicalTrials.gov `<clinical_study>` record."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<clinical_study>'
        f"<id_info><nct_id>{nct_id}</nct_id></id_info><brief_title>{title}</brief_title>"
        "<overall_status>Recruiting</overall_status><phase>Phase 2</phase><condition>Osteosarcoma</condition>"
        "<eligibility><minimum_age>12 Years</minimum_age><maximum_age>30 Years</maximum_age></eligibility>"
        "</clinical_study>\n"
    )


def write_good_sources(folder: Path) -> None:
    """A good guideline and a good trial file, the ones every hostile test expects to land."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "zz-good-guideline.md").write_text(guideline("Good guideline"), encoding="utf-8")
    (folder / "zz-good-trial.json").write_text(json.dumps(ctgov_study()), encoding="utf-8")


class Hung(BaseException):
    """The code under test ran past its time limit (a BaseException: no `except OSError` or `except Exception`
    in that code can swallow it, as it would a TimeoutError)."""


@contextmanager
def finishes_within(seconds: float) -> Iterator[None]:
    """Raises `Hung` in the block when it runs longer than `seconds`, a blocked open or read included.

    The alarm is sent to this thread itself: a process-wide SIGALRM may land on one of the model's worker
    threads and leave a blocked system call of this one blocked.
    """

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    target = threading.get_ident()
    watchdog = threading.Timer(seconds, signal.pthread_kill, (target, signal.SIGALRM))
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        watchdog.join()  # a signal already sent arrives while the handler is still ours
        signal.signal(signal.SIGALRM, previous)
