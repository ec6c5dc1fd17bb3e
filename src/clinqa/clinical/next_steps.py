"""The "what next" question a patient's record raises, for decision support that is not asked a question (a CDS
Hooks `patient-view`): the diagnosis, its stage or recurrence, and the therapy already given."""

from __future__ import annotations

from clinqa.types import PatientContext

MAX_THERAPIES = 4  # the latest lines named in the question; the patient context carries them all


def patient_topic(patient: PatientContext) -> str | None:
    """What the patient's next steps are about: "recurrent osteosarcoma after MAP, ifosfamide + etoposide";
    None without a cancer diagnosis."""
    if not patient.diagnosis:
        return None
    setting = "recurrent " if patient.recurrent else f"stage {patient.stage} " if patient.stage else ""
    topic = f"{setting}{patient.diagnosis}"
    given = [t.regimen or " + ".join(t.agents) for t in patient.prior_therapies if t.regimen or t.agents]
    if not given and patient.prior_agents:
        given = list(patient.prior_agents)
    given = list(dict.fromkeys(given))[-MAX_THERAPIES:]
    return f"{topic} after {', '.join(given)}" if given else topic


def next_steps_question(topic: str) -> str:
    """The question clinqa answers for a patient whose next steps are about `topic` (`patient_topic`)."""
    return f"What are the next treatment options for {topic}?"
