"""The questions of `test_answers_across_cancers.py`, one `Case` per cancer (nine), over the fixture pages of
`tests/fixtures/pages/` (clinqa's own test summaries, written for these tests; one per cancer).

A fact is a tuple of alternative short phrases (a drug or a figure, as the page writes it); it is present when
one of them occurs in the answer, case ignored. Questions are written as a clinician, or in lay words, would ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"

# Engine gaps these cases document (strict xfails: a fix turns them into failures to remove).

Fact = tuple[str, ...]


@dataclass(frozen=True)
class Ask:
    question: str
    facts: tuple[Fact, ...]
    bottom: bool = False  # the page states the fact directly: it belongs in the bottom line


@dataclass(frozen=True)
class Next:
    """A "what next" question naming prior therapies (regimen acronyms where one exists)."""

    question: str
    received: frozenset[str]  # the generic agents the prior therapies name
    section: str  # the page's section on this setting (later lines, relapse)
    options: Fact  # agents that section offers this patient: one of them is offered as not yet received


@dataclass(frozen=True)
class Case:
    key: str
    pages: tuple[str, ...]  # the document ids of the cancer's pages
    treatment: Ask
    prognosis: Ask
    listed: Ask  # symptoms or risk factors, answered from the page's list
    lay: Ask
    next: Next
    gaps: dict[str, str] = field(default_factory=dict)  # check name -> the engine gap it documents (xfail)


CASES = (
    Case(
        key="breast",
        pages=("breast-cancer-hp", "breast-cancer-patient-summary"),
        treatment=Ask(
            "What adjuvant endocrine therapy is recommended for a postmenopausal woman with hormone "
            "receptor-positive early breast cancer?",
            (("aromatase inhibitor",), ("5 years",)),
            bottom=True,
        ),
        prognosis=Ask("What is the 5-year survival for breast cancer with distant metastases?", (("32%",),)),
        listed=Ask("What are the risk factors for breast cancer?", (("BRCA1",), ("alcohol",))),
        lay=Ask("My mom was just diagnosed with breast cancer. What are her chances?", (("91%", "99%", "32%"),)),
        next=Next(
            "What's next for HER2-positive metastatic breast cancer after TCHP?",
            frozenset({"docetaxel", "carboplatin", "trastuzumab", "pertuzumab"}),
            "Recurrent or Progressive Metastatic Disease",
            ("trastuzumab deruxtecan",),
        ),
    ),
    Case(
        key="nsclc",
        pages=("non-small-cell-lung-cancer-hp",),
        treatment=Ask(
            "What is the first-line treatment for advanced non-small cell lung cancer with an EGFR exon 19 deletion?",
            (("osimertinib",),),
            bottom=True,
        ),
        prognosis=Ask("What is the 5-year survival of non-small cell lung cancer with distant metastases?", (("9%",),)),
        listed=Ask(
            "What are the symptoms of non-small cell lung cancer?", (("cough",), ("hemoptysis", "coughing up blood"))
        ),
        lay=Ask("My dad smoked for 40 years and now has lung cancer. What are his chances?", (("65%", "37%", "9%"),)),
        next=Next(
            "What's next for metastatic non-small cell lung cancer after carboplatin/paclitaxel with pembrolizumab?",
            frozenset({"carboplatin", "paclitaxel", "pembrolizumab"}),
            "Recurrent or Progressive NSCLC",
            ("docetaxel", "ramucirumab", "nivolumab"),
        ),
    ),
    Case(
        key="colon",
        pages=("colon-cancer-hp",),
        treatment=Ask(
            "What adjuvant chemotherapy is recommended after resection of stage III colon cancer?",
            (("FOLFOX",), ("CAPOX",)),
            bottom=True,
        ),
        prognosis=Ask("What is the 5-year survival for colon cancer with distant metastases?", (("13%",),)),
        listed=Ask(
            "What are the symptoms of colon cancer?", (("blood in the stool", "rectal bleeding"), ("bowel habits",))
        ),
        lay=Ask("My dad has colon cancer that spread to his lymph nodes. What are his chances?", (("73%",),)),
        next=Next(
            "What's next for metastatic colon cancer after FOLFOX?",
            frozenset({"fluorouracil", "leucovorin", "oxaliplatin"}),
            "Later Lines",
            ("regorafenib", "trifluridine", "encorafenib"),
        ),
    ),
    Case(
        key="prostate",
        pages=("prostate-cancer-hp",),
        treatment=Ask(
            "How should low-risk localized prostate cancer be managed?", (("active surveillance",),), bottom=True
        ),
        prognosis=Ask("What is the 5-year survival for prostate cancer with distant metastases?", (("37%",),)),
        listed=Ask("What are the risk factors for prostate cancer?", (("BRCA2",), ("Black",))),
        lay=Ask("My dad has low-risk prostate cancer. Does he need treatment right away?", (("active surveillance",),)),
        next=Next(
            "What's next for metastatic castration-resistant prostate cancer after docetaxel and enzalutamide?",
            frozenset({"docetaxel", "enzalutamide"}),
            "Metastatic Castration-Resistant",
            ("cabazitaxel", "radium", "lutetium"),
        ),
    ),
    Case(
        key="aml",
        pages=("adult-acute-myeloid-leukemia-hp",),
        treatment=Ask(
            "What is the standard treatment for a 78-year-old with newly diagnosed AML who is unfit for "
            "intensive chemotherapy?",
            (("venetoclax",), ("azacitidine",)),
            bottom=True,
        ),
        prognosis=Ask("What is the 5-year survival for adult acute myeloid leukemia?", (("32%",),)),
        listed=Ask("What are the symptoms of acute myeloid leukemia?", (("bruising",), ("infection", "fever"))),
        lay=Ask("My grandmother is 80 and has AML. What are her chances?", (("14.7 months", "9.6 months", "32%"),)),
        next=Next(
            "What's next for AML that relapsed after 7+3 induction?",
            frozenset({"cytarabine", "daunorubicin"}),
            "Relapsed or Refractory AML",
            ("gilteritinib", "ivosidenib", "enasidenib"),
        ),
    ),
    Case(
        key="hodgkin",
        pages=("hodgkin-lymphoma-hp",),
        treatment=Ask(
            "What is the first-line treatment for stage IV classic Hodgkin lymphoma?",
            (("A+AVD", "brentuximab vedotin"), ("ABVD",)),
            bottom=True,
        ),
        prognosis=Ask("What is the 5-year survival for Hodgkin lymphoma?", (("89%",),)),
        listed=Ask("What are the symptoms of Hodgkin lymphoma?", (("night sweats",), ("lymph nodes",))),
        lay=Ask("My son is 24 and has Hodgkin lymphoma. Can it be cured?", (("curable", "cured"),)),
        next=Next(
            "What's next for Hodgkin lymphoma that relapsed after ABVD?",
            frozenset({"doxorubicin", "bleomycin", "vinblastine", "dacarbazine"}),
            "Relapsed or Refractory Hodgkin",
            ("brentuximab", "pembrolizumab", "ifosfamide", "nivolumab"),
        ),
    ),
    Case(
        key="melanoma",
        pages=("melanoma-hp",),
        treatment=Ask(
            "What adjuvant therapy is recommended after resection of stage III melanoma?",
            (("nivolumab", "pembrolizumab"),),
            bottom=True,
        ),
        prognosis=Ask("What is the 5-year survival for melanoma with distant metastases?", (("35%",),)),
        listed=Ask("What are the warning signs of melanoma?", (("asymmetry",), ("diameter", "border"))),
        lay=Ask("My husband has melanoma that spread to his lungs. What are his chances?", (("35%",),)),
        next=Next(
            "What's next for metastatic melanoma after nivolumab and ipilimumab?",
            frozenset({"nivolumab", "ipilimumab"}),
            "Progressive or Recurrent Melanoma",
            ("dabrafenib", "trametinib", "encorafenib", "tumor-infiltrating lymphocytes"),
        ),
    ),
    Case(
        key="ovarian",
        pages=("ovarian-epithelial-cancer-hp",),
        treatment=Ask(
            "What maintenance therapy is recommended for BRCA-mutated advanced ovarian cancer after response to "
            "first-line platinum chemotherapy?",
            (("olaparib",),),
            bottom=True,
        ),
        prognosis=Ask("What is the 5-year survival for ovarian epithelial cancer?", (("51%",),)),
        listed=Ask("What are the symptoms of ovarian cancer?", (("bloating",), ("pelvic", "abdominal pain"))),
        lay=Ask("My sister has a BRCA1 mutation. How high is her risk of ovarian cancer?", (("44%",),)),
        next=Next(
            "What's next for recurrent ovarian cancer after carboplatin/paclitaxel and olaparib?",
            frozenset({"carboplatin", "paclitaxel", "olaparib"}),
            "Recurrent Ovarian",
            ("mirvetuximab", "niraparib", "bevacizumab"),
        ),
    ),
    Case(
        key="ewing",
        pages=("ewing-sarcoma-hp",),
        treatment=Ask(
            "What chemotherapy is standard for localized Ewing sarcoma?",
            (("VDC/IE",), ("every 2 weeks",)),
            bottom=True,
        ),
        prognosis=Ask("What is the event-free survival for localized Ewing sarcoma?", (("70% to 75%", "73%"),)),
        listed=Ask("What are the symptoms of Ewing sarcoma?", (("pain",), ("swelling", "mass"))),
        lay=Ask("My daughter is 14 and has Ewing sarcoma in her leg. Will she survive?", (("70% to 75%", "73%"),)),
        next=Next(
            "What's next for Ewing sarcoma that relapsed after VDC/IE?",
            frozenset({"vincristine", "doxorubicin", "cyclophosphamide", "ifosfamide", "etoposide"}),
            "Recurrent Ewing Sarcoma",
            ("irinotecan", "temozolomide"),
        ),
    ),
)
