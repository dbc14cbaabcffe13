"""Returns grading: inspection → grade on the condition ladder → disposition by recovery value.

The ladder is the ledger's `Condition`, so graded stock enters the ledger with
exactly the grade the inspection gave. Rules and money live in a TOML policy
(``configs/returns_policy.toml``).
"""

from wms.inventory_types import Condition, Grade
from wms.returns.csvio import ReturnLine, parse_returns_rows, read_returns_csv
from wms.returns.disposition import (
    Disposition,
    DispositionChoice,
    choose_disposition,
    disposition_options,
)
from wms.returns.grading import GradeResult, grade_inspection
from wms.returns.inspection import Cosmetic, FunctionalTest, Inspection, Packaging, ReturnReason
from wms.returns.policy import (
    DEFAULT_POLICY,
    CategoryPolicy,
    Costs,
    PolicyError,
    ReturnsPolicy,
    load_policy,
    parse_policy,
)
from wms.returns.process import ReturnOutcome, assess, process_returns, summarise_outcomes

__all__ = [
    "DEFAULT_POLICY",
    "CategoryPolicy",
    "Condition",
    "Cosmetic",
    "Costs",
    "Disposition",
    "DispositionChoice",
    "FunctionalTest",
    "Grade",
    "GradeResult",
    "Inspection",
    "Packaging",
    "PolicyError",
    "ReturnLine",
    "ReturnOutcome",
    "ReturnReason",
    "ReturnsPolicy",
    "assess",
    "choose_disposition",
    "disposition_options",
    "grade_inspection",
    "load_policy",
    "parse_policy",
    "parse_returns_rows",
    "process_returns",
    "read_returns_csv",
    "summarise_outcomes",
]
