from jaxdiag.diagnose import GAPS
from jaxdiag.report.text_summary import GAP_LABELS


def test_gap_labels_follow_the_decomposition():
    assert tuple(GAP_LABELS) == GAPS
