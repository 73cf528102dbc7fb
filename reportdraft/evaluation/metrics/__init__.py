"""Built-in metric groups; importing this package registers them (see ``REPORT_ORDER``)."""

from reportdraft.evaluation.metrics import (  # noqa: F401 - imported to register the groups
    critical_recall,
    edits,
    findings,
    grounding,
    guideline_concordance,
    lexical,
    structure,
    usage,
)
from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    build_groups,
    group_names,
    register_group,
)

__all__ = [
    "MetricGroup",
    "MetricInfo",
    "Values",
    "build_groups",
    "group_names",
    "register_group",
]
